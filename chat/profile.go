package chat

import (
	"errors"
	"net/mail"
	"strings"
	"time"
	_ "time/tzdata" // time zones validate the same on every machine
	"unicode/utf8"
)

// Profile limits, quoted by the details form.
const (
	MaxDisplayNameRunes = 64
	MaxTitleRunes       = 100
	MaxDepartmentRunes  = 100
	MaxEmailBytes       = 254 // RFC 5321's path limit
	MaxPhoneRunes       = 32
	MaxBioRunes         = 500
)

// Profile is what a person tells the directory about themselves. Every
// field is optional plain text.
type Profile struct {
	DisplayName string
	Title       string
	Department  string
	Email       string
	Phone       string
	TimeZone    string // an IANA name such as Europe/Paris
	Bio         string
}

// ProfileField names one Profile field: its form and CSV name and label.
type ProfileField struct {
	Name  string
	Label string
	get   func(*Profile) *string
}

// ProfileFields lists the fields in form order.
var ProfileFields = []ProfileField{
	{"display_name", "Display name", func(p *Profile) *string { return &p.DisplayName }},
	{"title", "Title", func(p *Profile) *string { return &p.Title }},
	{"department", "Department", func(p *Profile) *string { return &p.Department }},
	{"email", "Email", func(p *Profile) *string { return &p.Email }},
	{"phone", "Phone", func(p *Profile) *string { return &p.Phone }},
	{"timezone", "Time zone", func(p *Profile) *string { return &p.TimeZone }},
	{"bio", "Bio", func(p *Profile) *string { return &p.Bio }},
}

// Value returns this field of p.
func (f ProfileField) Value(p Profile) string { return *f.get(&p) }

// Set returns p with this field set to v.
func (f ProfileField) Set(p Profile, v string) Profile {
	*f.get(&p) = v
	return p
}

// Person is an account with its directory details.
type Person struct {
	User
	Profile
	// LastSeen is when the person last used the app; zero if never.
	LastSeen time.Time
}

// Label is how a person is named in lists: their display name, or their
// username when they have none.
func (p Person) Label() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Name
}

// ProfileChange is one field's change, kept for the audit trail.
type ProfileChange struct {
	ID       int64
	User     string // whose details changed
	By       string // who changed them
	Field    string // a ProfileField name, or "account" for (de)activation
	Old, New string
	At       time.Time
}

// CleanProfile validates every field of p and returns it tidied. The error
// joins one *Error per bad field, so a form can show them all at once.
func CleanProfile(p Profile) (Profile, error) {
	var errs []error
	check := func(field string, clean func(string) (string, error)) {
		f := profileField(field)
		v, err := clean(f.Value(p))
		if err != nil {
			errs = append(errs, err)
			return
		}
		p = f.Set(p, v)
	}
	check("display_name", func(s string) (string, error) {
		return cleanName("display_name", "Display name", s, MaxDisplayNameRunes, false)
	})
	check("title", func(s string) (string, error) {
		return cleanName("title", "Title", s, MaxTitleRunes, false)
	})
	check("department", func(s string) (string, error) {
		return cleanName("department", "Department", s, MaxDepartmentRunes, false)
	})
	check("email", cleanEmail)
	check("phone", cleanPhone)
	check("timezone", cleanTimeZone)
	check("bio", func(s string) (string, error) {
		return cleanName("bio", "Bio", s, MaxBioRunes, true)
	})
	return p, errors.Join(errs...)
}

func profileField(name string) ProfileField {
	for _, f := range ProfileFields {
		if f.Name == name {
			return f
		}
	}
	panic("chat: no profile field " + name)
}

// FieldErrors maps each field named by the *Errors joined in err to its
// message (the first one per field).
func FieldErrors(err error) map[string]string {
	out := map[string]string{}
	var walk func(error)
	walk = func(err error) {
		if e, ok := err.(*Error); ok {
			if _, seen := out[e.Field]; !seen {
				out[e.Field] = e.Msg
			}
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// cleanEmail accepts a bare address (no display name, no comments).
func cleanEmail(s string) (string, error) {
	s, err := cleanName("email", "Email", s, MaxEmailBytes, false)
	if err != nil || s == "" {
		return s, err
	}
	bad := FieldErrorf("email", Invalid, "Email must be an address like name@example.com.")
	if len(s) > MaxEmailBytes || strings.ContainsAny(s, " <>\"(),;:") {
		return "", bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return "", bad
	}
	return s, nil
}

// PhoneRule is the documented phone format, quoted in error messages.
const PhoneRule = "digits with optional spaces, dashes, dots, brackets and a leading +, 5 to 32 characters"

func cleanPhone(s string) (string, error) {
	s, err := cleanName("phone", "Phone", s, MaxPhoneRunes, false)
	if err != nil || s == "" {
		return s, err
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, strings.ContainsRune(" -.()", r):
		default:
			return "", FieldErrorf("phone", Invalid, "Phone must be %s.", PhoneRule)
		}
	}
	if digits < 5 || utf8.RuneCountInString(s) < 5 {
		return "", FieldErrorf("phone", Invalid, "Phone must be %s.", PhoneRule)
	}
	return s, nil
}

func cleanTimeZone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	// LoadLocation also takes "Local" and file paths' worth of characters;
	// only real zone names belong in a directory.
	if s == "Local" || len(s) > 64 || strings.Contains(s, "..") || strings.HasPrefix(s, "/") {
		return "", FieldErrorf("timezone", Invalid, "Time zone must be a name like Europe/Paris or UTC.")
	}
	if _, err := time.LoadLocation(s); err != nil {
		return "", FieldErrorf("timezone", Invalid, "Unknown time zone %q; use a name like Europe/Paris or UTC.", s)
	}
	return s, nil
}

// CanEditProfile reports whether by may change target's details: everyone
// edits their own; admins edit anyone's.
func CanEditProfile(by, target User) bool { return by.Admin || by.ID == target.ID }

// Invite is a one-time sign-in link made for a person: whoever holds Token
// may set their password once, before Expires.
type Invite struct {
	Person  Person
	Token   string
	Expires time.Time
}

// SignInLinkLifetime is how long an invite's link works.
const SignInLinkLifetime = 7 * 24 * time.Hour

// PeopleQuery selects a page of the directory.
type PeopleQuery struct {
	// Search matches names, usernames, titles and departments (substring,
	// case-insensitive for ASCII); empty lists everyone.
	Search string
	// Deactivated includes deactivated accounts (for admins).
	Deactivated bool
	Offset      int
	Limit       int
}
