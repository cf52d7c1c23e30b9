// Package views renders every page and fragment of RT Messenger with templ.
// View models live here too; they carry only what a template prints.
package views

import (
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
)

// Assets holds the versioned URLs of the static files a page links.
type Assets struct {
	CSS, Icon string
	// The script bundles (static.bundles): for pages without a signed-in
	// user, and for signed-in pages live over SSE or over the WebSocket.
	Public, SSE, WS string
}

// Page is what every full page needs.
type Page struct {
	Title  string
	Assets Assets
	// User is the signed-in user, or nil.
	User *chat.User
	// StreamAfter is the newest message id when the page was read: the page's
	// stream resumes from it so nothing posted meanwhile is missed.
	StreamAfter int64
	// Socket runs the page's live updates over a WebSocket, not SSE.
	Socket bool
	// Quiet pages open no stream, for want of a point to resume from (an
	// error page when the store cannot be read).
	Quiet bool
	// Heartbeat is how often the server sends every stream something: the
	// page drops one silent for much longer (a dead connection) and
	// resumes on a fresh one.
	Heartbeat time.Duration
	// Path is the page's own address, for forms that come back to it.
	Path string
	// Watch is the announcement whose status the page shows (WatchFrom is
	// its first recipient row): each stream connect starts with the current
	// status, so a change made while the page loaded is not missed.
	Watch     int64
	WatchFrom int
	// Peers maps each direct conversation of the user to the other person
	// and their presence, for the dot beside it in the sidebar.
	Peers map[int64]chat.PresenceChange
}

// AuthPage is the sign-up or log-in form.
type AuthPage struct {
	Page
	Signup   bool
	Username string
	Error    string
	// Next is the page to return to after logging in (already checked to
	// be on this site), or empty.
	Next string
}

// RoomsPage lists the user's rooms, others to join, and the create form.
type RoomsPage struct {
	Page
	Joined, Others []chat.Room
	Create         RoomForm
	Start          ConversationForm
}

// ConversationForm is the start-a-conversation form with what was typed.
type ConversationForm struct {
	With  string
	Error string
}

// RoomForm is the create-a-room form with what the user typed.
type RoomForm struct {
	Name, Topic string
	// Visibility is chat.VisibilityPublic or chat.VisibilityPrivate.
	Visibility string
	Error      string
}

// RoomPage is one room: its latest messages and the composer, or an
// invitation to join for non-members.
type RoomPage struct {
	Page
	Room     chat.Room
	Member   bool
	Joined   []chat.Room
	Messages []chat.Message
	// More says older messages exist before Messages[0].
	More     bool
	Composer Composer
	// NewFrom is the first message the viewer had not read when the page
	// was made: a "New messages" line goes before it (none when 0).
	NewFrom int64
	// Direct is the other person of a direct conversation, named in its
	// header with whether they are online (DirectOnline).
	Direct       *chat.Person
	DirectOnline bool
	// CanSettings offers the settings page: to a room's admins, to every
	// member of a group conversation.
	CanSettings bool
	// Focus is the message a permalink opened the page at (0: the
	// newest); Newer says messages after the page's window exist.
	Focus int64
	Newer bool
}

// Composer is the message form of a room.
type Composer struct {
	RoomID      int64
	Placeholder string
	Body        string
	Error       string
	// ClientID names this message attempt; the server stores a message once
	// per id, so resending is safe.
	ClientID string
	// Socket sends the form over the page's WebSocket instead of a post.
	Socket bool
	// Embed, if set, makes it the composer of an embedded room's widget.
	Embed *EmbedCredential
	// ReplyTo is the message it answers, if any (the quote may hold only
	// its id, after a refused post over a socket).
	ReplyTo *chat.Quote
}

// EmbedCredential is what a widget's forms carry instead of a cookie.
type EmbedCredential struct {
	Session string // the embed session's token
	Site    int64
}

// MembersPage lists a room's members, with the buttons the viewer may use.
type MembersPage struct {
	Page
	Room    chat.Room
	Joined  []chat.Room
	Members []chat.Member
	// Removable marks, by user id, the members the viewer may remove;
	// CanAppoint offers to make members room admins or no longer.
	Removable  map[int64]bool
	CanAppoint bool
	// Presence of each member, by user id.
	Presence map[int64]chat.Presence
}

// OlderPage is a page of older messages, for browsers without JavaScript.
type OlderPage struct {
	Page
	Room     chat.Room
	Messages []chat.Message
	More     bool
}

// ErrorPage explains a failed request.
type ErrorPage struct {
	Page
	Status  int
	Message string
}

// AnnouncePage composes an announcement and lists the sender's earlier ones.
type AnnouncePage struct {
	Page
	Joined []chat.Room // for the sidebar
	Rooms  []chat.Room // the form offers: Joined but direct conversations
	Form   AnnounceForm
	Mine   []chat.Announcement
}

// AnnounceForm is the compose form with what the sender typed.
type AnnounceForm struct {
	Body     string
	To       string
	Rooms    []int64
	Everyone bool
	Error    string
	// Field names the form field the error is about, if any.
	Field string
}

// AnnouncementPage is one announcement's status, a page of its recipients.
type AnnouncementPage struct {
	Page
	Joined       []chat.Room
	Announcement chat.Announcement
	Recipients   []chat.Recipient
	// Offset is where Recipients starts; More says a next page exists.
	Offset int
	More   bool
}

// PeoplePerPage is how many people the directory lists at once.
const PeoplePerPage = 50

// PeoplePage is the directory: a page of people matching a search.
type PeoplePage struct {
	Page
	Joined []chat.Room
	Search string
	People []chat.Person
	// Offset is where People starts; More says a next page exists.
	Offset int
	More   bool
	// Online marks who has a live stream open now.
	Online map[int64]bool
	// Presence of each person listed, by user id.
	Presence map[int64]chat.Presence
}

// PersonPage is one person's entry, with the details form when the viewer
// may edit it and the admin controls for admins.
type PersonPage struct {
	Page
	Joined  []chat.Room
	Person  chat.Person
	Online  bool
	CanEdit bool
	Form    ProfileForm
	// Saved says the details were just saved.
	Saved bool
	// Changes is the audit trail; only admins get it.
	Changes []chat.ProfileChange
	// Invite is a sign-in link just made, shown this once.
	Invite *InviteLink
	// AdminError is what went wrong with an admin action.
	AdminError string
}

// ProfileForm is the details form with what was typed and each field's error.
type ProfileForm struct {
	Profile chat.Profile
	Errors  map[string]string
}

// InviteLink is a one-time sign-in link to hand to its person.
type InviteLink struct {
	Person  chat.Person
	URL     string
	Expires string
}

// ImportPage uploads a CSV of people (admins) and shows the outcome: the
// rows refused and why, or the people created with their sign-in links.
type ImportPage struct {
	Page
	Joined    []chat.Room
	Error     string
	RowErrors []chat.RowError
	Invites   []InviteLink
}

// WelcomePage lets an invited person set their password.
type WelcomePage struct {
	Page
	Token    string
	Username string
	Error    string
}

// EmbedAssets are the widget page's own files.
type EmbedAssets struct {
	CSS, Frame string
}

// EmbedPage is a room as another site's page shows it.
type EmbedPage struct {
	Assets EmbedAssets
	Room   chat.Room
	// Host is the embedding site's origin: the only window the widget talks
	// to (postMessage) and takes theme changes from.
	Host     string
	Theme    chat.Theme
	ThemeCSS string // the site's colours, a stylesheet URL
	Messages []chat.Message
	// Composer is nil for a read-only guest.
	Composer   *Composer
	StreamPath string
	// Error, if set, is shown instead of the room.
	Error string
}

// SitesPage lists the sites that embed rooms, with a form to add one.
type SitesPage struct {
	Page
	Sites []chat.Site
	Rooms []chat.Room // public rooms, for the room picker
	Form  SiteForm
}

// SitePage is one site's settings. Secret is set once, right after it was
// made: it is never shown again.
type SitePage struct {
	Page
	Site   chat.Site
	Rooms  []chat.Room
	Form   SiteForm
	Secret string
	Saved  bool
	// Base is this server's address, for the snippets shown.
	Base string
}

// SiteForm is the site settings form as typed, with errors by field.
type SiteForm struct {
	Origin    string
	AllPublic bool
	Rooms     map[int64]bool
	Guests    bool
	Theme     chat.Theme
	Errors    map[string]string
}

// MessagePage is a message's own page: what its viewer may do to it.
type MessagePage struct {
	Page
	Room    chat.Room
	Message chat.Message
	// Edits are its earlier texts, for the room's managers only.
	Edits              []chat.Edit
	CanEdit, CanDelete bool
	// Body is the edit form's text; Error why it was refused.
	Body, Error string
}
