package handlers

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/hub"
)

func profileForm(p chat.Profile) url.Values {
	v := url.Values{}
	for _, f := range chat.ProfileFields {
		v.Set(f.Name, f.Value(p))
	}
	return v
}

func TestEveryoneEditsTheirOwnDetailsAndAdminsAnyones(t *testing.T) {
	a := newApp(t)
	admin, bob, cat := a.signup("admin"), a.signup("bob"), a.signup("cat")
	ctx := context.Background()

	want := chat.Profile{DisplayName: "Bob <b>B</b>", Title: "Site lead", Department: "Construction",
		Email: "bob@example.com", Phone: "+33 1 23 45 67 89", TimeZone: "Europe/Paris", Bio: "Line one\n<script>alert(1)</script>"}
	res := bob.post("/people/bob", profileForm(want), nil)
	if res.status != http.StatusSeeOther || res.location != "/people/bob?saved=1" {
		t.Fatalf("save own details: %d %s\n%s", res.status, res.location, res.body)
	}
	page := bob.get(res.location, nil)
	mustContain(t, page.body, "Details saved.", "Bob &lt;b&gt;B&lt;/b&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", `href="mailto:bob@example.com"`)
	mustNotContain(t, page.body, "<script>alert", `id="audit"`) // the audit trail is for admins

	// A bad field refuses the whole form, says why, keeps what was typed.
	bad := want
	bad.Email, bad.Title = "not an address", "Boss"
	res = bob.post("/people/bob", profileForm(bad), nil)
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad email: %d", res.status)
	}
	mustContain(t, res.body, "Email must be an address", `value="not an address"`, `aria-invalid="true"`)
	if p, _ := a.store.Person(ctx, "bob"); p.Profile != want {
		t.Fatalf("a refused form changed details: %+v", p.Profile)
	}

	// Fields left out of a post keep their value.
	if res = bob.post("/people/bob", url.Values{"title": {"Foreman"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("partial update: %d", res.status)
	}
	if p, _ := a.store.Person(ctx, "bob"); p.Title != "Foreman" || p.Email != want.Email {
		t.Fatalf("partial update: %+v", p.Profile)
	}

	if res = cat.post("/people/bob", url.Values{"title": {"Intern"}}, nil); res.status != http.StatusForbidden {
		t.Fatalf("cat edited bob: %d", res.status)
	}
	if page = cat.get("/people/bob", nil); strings.Contains(page.body, `class="stack profile-form"`) {
		t.Fatal("cat is offered bob's details form")
	}
	if res = admin.post("/people/bob", url.Values{"department": {"Ops"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("admin edit: %d", res.status)
	}
	page = admin.get("/people/bob", nil)
	mustContain(t, page.body, `id="audit"`, "Construction", "Ops", "Foreman")
	if n := strings.Count(page.body, "<tr><td><time"); n != 9 { // 7 fields, title again, department by the admin
		t.Errorf("audit rows = %d, want 9", n)
	}
	if res = bob.post("/people/nobody", url.Values{"title": {"x"}}, nil); res.status != http.StatusNotFound {
		t.Fatalf("unknown person: %d", res.status)
	}
}

func TestDirectorySearchesAndPages(t *testing.T) {
	a := newApp(t)
	admin := a.signup("admin")
	names := make([]string, 60)
	for i := range names {
		names[i] = fmt.Sprintf("member%02d", i)
	}
	for _, n := range names {
		if _, err := a.store.CreateUser(context.Background(), n, "x"); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"member07", "member42"} {
		if _, err := a.store.UpdateProfile(context.Background(), n, chat.Profile{Department: "Finance & <Risk>"}, admin.user()); err != nil {
			t.Fatal(err)
		}
	}
	first := admin.get("/people", nil)
	if first.status != http.StatusOK {
		t.Fatalf("directory: %d", first.status)
	}
	cards := regexp.MustCompile(`<li id="person-\d+">`)
	if n := len(cards.FindAllString(first.body, -1)); n != 50 {
		t.Fatalf("first page lists %d people, want 50", n)
	}
	mustContain(t, first.body, `href="/people?offset=50"`)
	second := admin.get("/people?offset=50", nil)
	if n := len(cards.FindAllString(second.body, -1)); n != 11 {
		t.Fatalf("second page lists %d people, want 11", n)
	}
	found := admin.get("/people?q=risk", nil)
	if n := len(cards.FindAllString(found.body, -1)); n != 2 {
		t.Fatalf("search lists %d people, want 2", n)
	}
	mustContain(t, found.body, "member07", "member42", "Finance &amp; &lt;Risk&gt;", `value="risk"`)
	none := admin.get("/people?q="+url.QueryEscape(`"><script>`), nil)
	mustContain(t, none.body, "Nobody matches", "&#34;&gt;&lt;script&gt;")
	if res := admin.get("/people?q=%FF", nil); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid UTF-8 search: %d", res.status)
	}
	if res := a.browser().get("/people", nil); res.status != http.StatusSeeOther || res.location != "/login?next=%2Fpeople" {
		t.Fatalf("anonymous directory: %d %s", res.status, res.location)
	}
}

func TestDeactivationSignsOutEverywhereAndClosesStreams(t *testing.T) {
	a := newApp(t)
	admin, bob := a.signup("admin"), a.signup("bob")
	otherTab := a.browser() // bob signed in a second time, elsewhere
	otherTab.name = "bob"
	if res := otherTab.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("second login: %d", res.status)
	}
	stream := bob.open("", nil)
	a.waitConns(1)
	if page := admin.get("/people", nil); !strings.Contains(page.body, "Online now") {
		t.Error("bob's open stream does not show as online")
	}

	if res := bob.post("/people/admin/deactivate", nil, nil); res.status != http.StatusForbidden {
		t.Fatalf("non-admin deactivated: %d", res.status)
	}
	if res := admin.post("/people/admin/deactivate", nil, nil); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("admin deactivated themself: %d", res.status)
	}
	if res := admin.post("/people/bob/deactivate", nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.status)
	}
	if !stream.bg.Ended(5 * time.Second) {
		t.Fatal("deactivated user's stream stayed open")
	}
	for _, b := range []*browser{bob, otherTab} {
		if res := b.get("/rooms", nil); res.status != http.StatusSeeOther || res.location != "/login" {
			t.Fatalf("deactivated session still works: %d %s", res.status, res.location)
		}
		if res := b.get("/events", nil); res.status != http.StatusUnauthorized {
			t.Fatalf("deactivated stream: %d", res.status)
		}
	}
	res := a.browser().post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}, nil)
	if res.status != http.StatusForbidden || !strings.Contains(res.body, "deactivated") {
		t.Fatalf("deactivated login: %d", res.status)
	}
	cat := a.signup("cat")
	if res := cat.get("/people/bob", nil); res.status != http.StatusNotFound {
		t.Fatalf("deactivated person shown to others: %d", res.status)
	}
	mustContain(t, admin.get("/people/bob", nil).body, "This account is deactivated", "Reactivate account")

	if res := admin.post("/people/bob/reactivate", nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", res.status)
	}
	if res := bob.get("/rooms", nil); res.status != http.StatusSeeOther {
		t.Fatal("an ended session came back with reactivation")
	}
	a.signupAgain("bob")
}

// signupAgain logs name in with the password signup gave them.
func (a *app) signupAgain(name string) *browser {
	a.t.Helper()
	b := a.browser()
	b.name = name
	res := b.post("/login", url.Values{"username": {name}, "password": {"password-" + name}}, nil)
	if res.status != http.StatusSeeOther || res.location != "/rooms" {
		a.t.Fatalf("login %s: %d\n%s", name, res.status, res.body)
	}
	return b
}

func (b *browser) upload(path, filename, content string) result {
	b.a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write([]byte(content))
	mw.Close()
	return b.postRaw(path, body.String(), http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// importAnswer checks that an upload was answered with a redirect to the
// import page (so a reload there uploads nothing) and loads that page.
func importAnswer(t *testing.T, b *browser, res result) result {
	t.Helper()
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/people/import?") {
		t.Fatalf("import answered %d %q, want a redirect to the import page\n%.300s", res.status, res.location, res.body)
	}
	page := b.follow(res)
	if page.status != http.StatusOK {
		t.Fatalf("import page: %d", page.status)
	}
	return page
}

func TestImportReportsBadLinesAndInvitesTheRest(t *testing.T) {
	a := newApp(t)
	admin, bob := a.signup("admin"), a.signup("bob")
	ctx := context.Background()

	bad := "username,display name,email,title,department,phone\n" +
		"dana,Dana,dana@example.com,Engineer,Platform,+1 555 0100\n" +
		"eve,Eve,not-an-email,,,\n" +
		"BOB,Another Bob,,,,\n" +
		"fay,Fay,,,,12\n"
	res := admin.upload("/people/import", "people.csv", bad)
	report := importAnswer(t, admin, res)
	mustContain(t, report.body, "Nothing was imported", "<td>3</td>", "Email must be an address", "<td>5</td>", "Phone must be")
	if again := admin.get(res.location, nil); again.body != report.body {
		t.Fatal("reloading the refusal's page did not show it again")
	}
	if _, err := a.store.Person(ctx, "dana"); chat.CodeOf(err) != chat.NotFound {
		t.Fatal("a refused file imported dana")
	}
	// Valid lines whose username is taken are only found by the store.
	report = importAnswer(t, admin, admin.upload("/people/import", "people.csv", "username,display_name\ndana,Dana\nBOB,Another Bob\n"))
	mustContain(t, report.body, "<td>3</td>", "is taken")
	if _, err := a.store.Person(ctx, "dana"); chat.CodeOf(err) != chat.NotFound {
		t.Fatal("a refused file imported dana")
	}
	if res = bob.upload("/people/import", "people.csv", "username\nzed\n"); res.status != http.StatusForbidden {
		t.Fatalf("non-admin import: %d", res.status)
	}
	res = admin.upload("/people/import", "people.csv", "username\n"+strings.Repeat("x", chat.MaxImportBytes+1))
	refusedAt := res.location
	report = importAnswer(t, admin, res)
	mustContain(t, report.body, "larger than 2 MB")
	if plain := admin.get("/people/import", nil); strings.Contains(plain.body, "larger than") {
		t.Fatal("the form's own address shows an old refusal")
	}

	good := "username,display_name,email,title,department,phone\n" +
		"dana,Dana,dana@example.com,Engineer,Platform,+1 555 0100\n" +
		"eve,Eve,eve@example.com,Analyst,Finance,\n"
	res = admin.upload("/people/import", "people.csv", good)
	report = importAnswer(t, admin, res)
	if again := admin.get(res.location, nil); again.body != report.body {
		t.Fatal("reloading the import's page did not show its links again")
	}
	res = report
	if back := admin.get(refusedAt, nil); strings.Contains(back.body, "larger than") {
		t.Fatal("Back to the refusal after a good import still shows the refusal")
	}
	mustContain(t, res.body, "Imported 2 people")
	links := regexp.MustCompile(`value="http://[^"/]+(/welcome/[A-Za-z0-9_-]+)"`).FindAllStringSubmatch(res.body, -1)
	if len(links) != 2 {
		t.Fatalf("want 2 sign-in links, got %d", len(links))
	}
	dana, _ := a.store.Person(ctx, "dana")
	if dana.Title != "Engineer" || dana.Phone != "+1 555 0100" {
		t.Fatalf("imported dana: %+v", dana)
	}
	if res := a.browser().post("/login", url.Values{"username": {"dana"}, "password": {""}}, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("imported account logged in without a password: %d", res.status)
	}

	newcomer := a.browser()
	link := links[0][1]
	page := newcomer.get(link, nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Welcome, dana") || page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("welcome page: %d %q", page.status, page.header.Get("Referrer-Policy"))
	}
	if res = newcomer.post(link, url.Values{"password": {"short"}}, nil); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", res.status)
	}
	if res = newcomer.post(link, url.Values{"password": {"password-dana"}}, nil); res.status != http.StatusSeeOther || res.location != "/rooms" {
		t.Fatalf("set password: %d %s", res.status, res.location)
	}
	if res = newcomer.get("/rooms", nil); res.status != http.StatusOK || !strings.Contains(res.body, "dana") {
		t.Fatalf("not signed in after the link: %d", res.status)
	}
	if res = a.browser().post(link, url.Values{"password": {"password-other"}}, nil); res.status != http.StatusNotFound {
		t.Fatalf("link used twice: %d", res.status)
	}
	a.signupAgain("dana")

	// An admin can make a fresh link for someone who lost theirs.
	res = admin.follow(admin.post("/people/eve/link", nil, nil))
	if res.status != http.StatusOK || !regexp.MustCompile(`/welcome/[A-Za-z0-9_-]{20,}`).MatchString(res.body) {
		t.Fatalf("new link: %d", res.status)
	}
	if res = a.browser().get(links[1][1], nil); res.status != http.StatusNotFound {
		t.Fatalf("replaced link still works: %d", res.status)
	}
	if res = bob.post("/people/eve/link", nil, nil); res.status != http.StatusForbidden {
		t.Fatalf("non-admin made a link: %d", res.status)
	}
}

func TestExportIsTheDirectoryAsCSV(t *testing.T) {
	a := newApp(t)
	admin, bob := a.signup("admin"), a.signup("bob")
	if res := bob.post("/people/bob", url.Values{"title": {"=HYPERLINK(\"http://evil\")"}, "display_name": {"Bob, \"the\" builder"}}, nil); res.status != http.StatusSeeOther {
		t.Fatalf("save: %d", res.status)
	}
	a.signup("cat")
	if res := admin.post("/people/cat/deactivate", nil, nil); res.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.status)
	}
	for who, wantRows := range map[*browser]int{bob: 2, admin: 3} {
		res := who.get("/people.csv", nil)
		if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", res.status, res.header.Get("Content-Type"))
		}
		records, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 1+wantRows || strings.Join(records[0], ",") != strings.Join(chat.PeopleCSVHeader, ",") {
			t.Fatalf("%s's export: %q", who.name, records)
		}
		var bobRow []string
		for _, r := range records {
			if r[0] == "bob" {
				bobRow = r
			}
		}
		if bobRow == nil || bobRow[1] != `Bob, "the" builder` || bobRow[3] != `'=HYPERLINK("http://evil")` {
			t.Fatalf("bob's row: %q", bobRow)
		}
	}
	if res := a.browser().get("/people.csv", nil); res.status != http.StatusSeeOther {
		t.Fatalf("anonymous export: %d", res.status)
	}
}

func TestLastSeenIsRecordedAtLogin(t *testing.T) {
	a := newApp(t)
	before := time.Now().Add(-time.Second)
	a.signup("ann")
	p, err := a.store.Person(context.Background(), "ann")
	if err != nil || p.LastSeen.Before(before) {
		t.Fatalf("last seen %v (err %v), want after %v", p.LastSeen, err, before)
	}
}

// Behind a proxy the request's Host may be the server's own address: links
// handed out use the configured public address instead.
func TestSignInLinksUseThePublicURL(t *testing.T) {
	for _, c := range []struct{ public, want string }{
		{"", `value="http://127.0.0.1:[0-9]+/welcome/`},
		{"https://chat.example.com", `value="https://chat\.example\.com/welcome/`},
	} {
		a := newAppWith(t, hub.Options{}, nil, func(d *Deps) { d.PublicURL = c.public })
		admin := a.signup("admin")
		a.signup("eve")
		res := admin.follow(admin.post("/people/eve/link", nil, nil))
		if res.status != http.StatusOK || !regexp.MustCompile(c.want).MatchString(res.body) {
			t.Errorf("public URL %q: %d, want a link matching %s", c.public, res.status, c.want)
		}
	}
}
