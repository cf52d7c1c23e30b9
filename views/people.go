package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

func personID(user int64) string { return "person-" + strconv.FormatInt(user, 10) }

func personPath(username string) string { return "/people/" + url.PathEscape(username) }

func personURL(username string) templ.SafeURL { return templ.SafeURL(personPath(username)) }

func personAction(username, action string) templ.SafeURL {
	return templ.SafeURL(personPath(username) + "/" + action)
}

func welcomeURL(token string) templ.SafeURL {
	return templ.SafeURL("/welcome/" + url.PathEscape(token))
}

func peoplePage(search string, offset int) templ.SafeURL {
	q := url.Values{}
	if search != "" {
		q.Set("q", search)
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	if len(q) == 0 {
		return "/people"
	}
	return templ.SafeURL("/people?" + q.Encode())
}

// mailtoURL links a validated address; escaping keeps a "?" in the local
// part from adding headers to the mail.
func mailtoURL(email string) templ.SafeURL { return templ.URL("mailto:" + url.PathEscape(email)) }

func telURL(phone string) templ.SafeURL {
	return templ.URL("tel:" + strings.NewReplacer(" ", "", "(", "", ")", "").Replace(phone))
}

// dayTime is a date and time for lists; the page script localises it.
func dayTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04") + " UTC" }

func rowCount(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}

// fieldLabel names a profile field (or "account", for activation changes).
func fieldLabel(name string) string {
	for _, f := range chat.ProfileFields {
		if f.Name == name {
			return f.Label
		}
	}
	switch name {
	case "account":
		return "Account"
	case "admin":
		return "Admin"
	}
	return name
}

// changedBy names who made a change: no one is the command line
// (rtmessenger admin), which acts with no account.
func changedBy(c chat.ProfileChange) string {
	if c.By == "" {
		return "command line"
	}
	return c.By
}

func fieldValue(p chat.Profile, name string) string {
	for _, f := range chat.ProfileFields {
		if f.Name == name {
			return f.Value(p)
		}
	}
	return ""
}
