package chat

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParsePeopleCSVGood(t *testing.T) {
	in := "\uFEFF Email ,Display Name,USERNAME,Time_Zone,department,bio,phone,title\r\n" +
		"\r\n" +
		"alice@example.com,  Alice Liddell ,alice,Europe/Paris,R&D,\"Likes tea, \"\"mostly\"\"\",+33 1 23 45 67,Engineer\r\n" +
		",,,,,,,\r\n" +
		"   ,  ,\t,,,,,\r\n" +
		",,Bob.Smith-2\r\n" + // a short row: the missing cells are empty
		"carol@example.com,Carol,carol,,,\"two\r\nlines\",,\r\n" +
		"\r\n"
	rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(in))
	if err != nil || len(rowErrs) != 0 {
		t.Fatalf("ParsePeopleCSV: %v, row errors %v", err, rowErrs)
	}
	want := []ImportRow{
		{Line: 3, Username: "alice", Profile: Profile{
			DisplayName: "Alice Liddell", Title: "Engineer", Department: "R&D", Email: "alice@example.com",
			Phone: "+33 1 23 45 67", TimeZone: "Europe/Paris", Bio: `Likes tea, "mostly"`,
		}},
		{Line: 6, Username: "Bob.Smith-2"},
		{Line: 7, Username: "carol", Profile: Profile{DisplayName: "Carol", Email: "carol@example.com", Bio: "two\nlines"}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
}

func TestParsePeopleCSVHeaderSpellings(t *testing.T) {
	for _, h := range []string{"username,display name", "Username,Display_Name", "USERNAME , display  name", "username,DisplayName", "username,display_name,,"} {
		rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(h + "\nalice,Alice\n"))
		want := []ImportRow{{Line: 2, Username: "alice", Profile: Profile{DisplayName: "Alice"}}}
		if err != nil || len(rowErrs) != 0 || !reflect.DeepEqual(rows, want) {
			t.Errorf("header %q: got %+v, %v, %v", h, rows, rowErrs, err)
		}
	}
}

// Each bad record sits between two good ones, which must still be returned.
func TestParsePeopleCSVRowErrors(t *testing.T) {
	const header = "username,display_name,email,phone,timezone,,\n"
	for _, c := range []struct {
		name, record, reason string
	}{
		{"bad email", "mallory,Mallory,not-an-email,,", "Email must be an address like name@example.com."},
		{"email with name", "mallory,,Mallory <m@example.com>,,", "Email must be an address like name@example.com."},
		{"bad phone", "mallory,,,call me,", "Phone must be " + PhoneRule + "."},
		{"bad time zone", "mallory,,,,Mars/Olympus", `Unknown time zone "Mars/Olympus"; use a name like Europe/Paris or UTC.`},
		{"bad username", "mal lory,Mallory,,,", "Username must be " + UsernameRule + "."},
		{"short username", "ab,,,,", "Username must be " + UsernameRule + "."},
		{"no username", " ,Mallory,,,", "Username is required."},
		{"bidi display name", "mallory,\u202Eyrollam,,,", "Display name must not contain text-direction control characters (found U+202E)."},
		{"control character", "mallory,a\x07b,,,", "Display name contains a control character (U+0007)."},
		{"two-line display name", "mallory,\"a\nb\",,,", "Display name must be a single line."},
		{"invalid UTF-8 display name", "mallory,Mal\xffory,,,", "Display name is not valid UTF-8 text."},
		{"invalid UTF-8 username", "mal\xc3ory,,,,", "Username is not valid UTF-8."},
		{"invalid UTF-8 email", "mallory,,m\xff@example.com,,", "Email is not valid UTF-8 text."},
		{"errors joined in order", "x,\u202E,bad,bad,", "Username must be " + UsernameRule + ".; " +
			"Display name must not contain text-direction control characters (found U+202E).; " +
			"Email must be an address like name@example.com.; Phone must be " + PhoneRule + "."},
		{"too wide", "mallory,,,,,,,x", "This row has 8 cells, the header has 7."},
		{"value under a blank header", "mallory,,,,,x", "Column 6 has a value but no header."},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := header + "alice,Alice,,,\n" + c.record + "\nbob,,,,,,,,\n" // bob's extra cells are blank
			rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(in))
			if err != nil {
				t.Fatalf("file error %v", err)
			}
			if want := []RowError{{3, c.reason}}; !reflect.DeepEqual(rowErrs, want) {
				t.Errorf("row errors:\n got %q\nwant %q", rowErrs, want)
			}
			if len(rowErrs) == 1 {
				if got, want := rowErrs[0].Error(), "line 3: "+c.reason; got != want {
					t.Errorf("Error() = %q, want %q", got, want)
				}
			}
			want := []ImportRow{{Line: 2, Username: "alice", Profile: Profile{DisplayName: "Alice"}}, {Line: 4 + strings.Count(c.record, "\n"), Username: "bob"}}
			if !reflect.DeepEqual(rows, want) {
				t.Errorf("rows: got %+v, want %+v", rows, want)
			}
		})
	}
}

func TestParsePeopleCSVLineNumbers(t *testing.T) {
	in := "username,bio\n" + // 1
		"\n" + // 2
		"alice,\"first line\n" + // 3
		"second line\"\n" + // 4
		"bob,\"a\n\nb\n\"\n" + // 5-8: a quoted field holding blank lines
		"x,bad username\n" + // 9
		",\n" + // 10
		"carol,\"\"\"quoted\"\"\"\n" + // 11
		"dave,\"\x01\"\n" // 12
	rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, r := range rows {
		lines = append(lines, r.Line)
	}
	if want := []int{3, 5, 11}; !slices.Equal(lines, want) {
		t.Errorf("row lines = %v, want %v", lines, want)
	}
	if rows[0].Profile.Bio != "first line\nsecond line" || rows[1].Profile.Bio != "a\n\nb" || rows[2].Profile.Bio != `"quoted"` {
		t.Errorf("bios = %q, %q, %q", rows[0].Profile.Bio, rows[1].Profile.Bio, rows[2].Profile.Bio)
	}
	want := []RowError{
		{9, "Username must be " + UsernameRule + "."},
		{12, "Bio contains a control character (U+0001)."},
	}
	if !reflect.DeepEqual(rowErrs, want) {
		t.Errorf("row errors:\n got %q\nwant %q", rowErrs, want)
	}
}

func TestParsePeopleCSVDuplicates(t *testing.T) {
	in := "username,email\n" +
		"alice,\n" + // 2
		"Bob,\n" + // 3
		"ALICE,\n" + // 4
		"carol,bad\n" + // 5: refused, but still claims the name
		"bob,\n" + // 6
		"Carol,\n" + // 7
		"alice,bad\n" // 8
	rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []ImportRow{{Line: 2, Username: "alice"}, {Line: 3, Username: "Bob"}}; !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %+v, want %+v", rows, want)
	}
	bad := "Email must be an address like name@example.com."
	want := []RowError{
		{4, `Username "ALICE" already appears on line 2.`},
		{5, bad},
		{6, `Username "bob" already appears on line 3.`},
		{7, `Username "Carol" already appears on line 5.`},
		{8, `Username "alice" already appears on line 2.; ` + bad},
	}
	if !reflect.DeepEqual(rowErrs, want) {
		t.Errorf("row errors:\n got %q\nwant %q", rowErrs, want)
	}
}

func TestParsePeopleCSVFileErrors(t *testing.T) {
	var many strings.Builder
	many.WriteString("username\n")
	for i := range MaxImportRows + 1 {
		fmt.Fprintf(&many, "user%d\n", i)
	}
	big := "username,bio\n" + strings.Repeat("alice,"+strings.Repeat("x", 99)+"\n", MaxImportBytes/100+1)

	for _, c := range []struct {
		name, in string
		code     Code
		msg      string
	}{
		{"empty", "", Invalid, "The file is empty."},
		{"only a BOM", "\uFEFF", Invalid, "The file is empty."},
		{"only blank records", "\n\n,,\n \t, \n", Invalid, "The file is empty."},
		{"unknown column", "username,nickname\nalice,al\n", Invalid, `Unknown column "nickname"; the first row must name columns from: ` + strings.Join(PeopleCSVHeader, ", ") + "."},
		{"no header", "alice,alice@example.com\n", Invalid, `Unknown column "alice"; the first row`},
		{"long unknown column", "username," + strings.Repeat("é", 50) + "\n", Invalid, `Unknown column "` + strings.Repeat("é", 40) + `…"`},
		{"missing username", "display_name,email\nAlice,a@example.com\n", Invalid, "The header row has no username column."},
		{"duplicate column", "username,Display Name,display_name\n", Invalid, `Column "display_name" appears twice (columns 2 and 3).`},
		{"duplicate username column", "username,USERNAME\n", Invalid, `Column "USERNAME" appears twice (columns 1 and 2).`},
		{"UTF-16", "\xff\xfeu\x00s\x00e\x00r\x00", Invalid, "The file is not UTF-8 text"},
		{"Latin-1 header", "username,d\xe9partement\n", Invalid, "The file is not UTF-8 text"},
		{"workbook", "PK\x03\x04\x14\x00\x06\x00", Invalid, "This is a spreadsheet workbook, not a CSV file"},
		{"syntax error in header", "username,\"bio\"x\nalice,\n", Invalid, "The file is not valid CSV: extraneous or missing \" in quoted-field on line 1."},
		{"too many rows", many.String(), Invalid, fmt.Sprintf("The file has more than %d people", MaxImportRows)},
		{"too large", big, TooLarge, "The file is larger than 2 MB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(c.in))
			if err == nil {
				t.Fatalf("no error; rows %d, row errors %v", len(rows), rowErrs)
			}
			if rows != nil || rowErrs != nil {
				t.Errorf("file error came with rows %v, row errors %v", rows, rowErrs)
			}
			if CodeOf(err) != c.code || FieldOf(err) != "file" || !strings.HasPrefix(ErrorText(err), c.msg) {
				t.Errorf("err = %v (code %v, field %q); want code %v on file, starting %q", err, CodeOf(err), FieldOf(err), c.code, c.msg)
			}
		})
	}
}

func TestParsePeopleCSVLimitsInclusive(t *testing.T) {
	var b strings.Builder
	b.WriteString("username\n")
	for i := range MaxImportRows {
		fmt.Fprintf(&b, "user%d\n", i)
	}
	rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(b.String()))
	if err != nil || len(rowErrs) != 0 || len(rows) != MaxImportRows {
		t.Fatalf("%d rows: got %d rows, %v, %v", MaxImportRows, len(rows), rowErrs, err)
	}
	if last := rows[len(rows)-1]; last.Line != MaxImportRows+1 || last.Username != fmt.Sprintf("user%d", MaxImportRows-1) {
		t.Errorf("last row = %+v", last)
	}

	exact := "username,bio\nalice,"
	exact += strings.Repeat("x", MaxImportBytes-len(exact))
	if _, _, err := ParsePeopleCSV(strings.NewReader(exact)); CodeOf(err) == TooLarge {
		t.Errorf("a file of exactly MaxImportBytes was refused: %v", err)
	}
}

// A syntax error ends the parse: the rows before it are kept, and the error
// names the line its record starts on.
func TestParsePeopleCSVSyntaxError(t *testing.T) {
	for _, c := range []struct {
		name, bad string
		want      RowError
	}{
		{"bare quote", `carol,say "hi"`, RowError{3, `This is not valid CSV (bare " in non-quoted-field); this line and the rest of the file were not read.`}},
		{"text after closing quote", "carol,\"multi\nline\"x", RowError{3, `This is not valid CSV (extraneous or missing " in quoted-field, on line 4); this line and the rest of the file were not read.`}},
		{"unterminated quote", "carol,\"never closed\ndave,\n", RowError{3, `This is not valid CSV (extraneous or missing " in quoted-field, on line 6); this line and the rest of the file were not read.`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := "username,bio\nalice,ok\n" + c.bad + "\nbob,ok\n"
			rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if want := []ImportRow{{Line: 2, Username: "alice", Profile: Profile{Bio: "ok"}}}; !reflect.DeepEqual(rows, want) {
				t.Errorf("rows = %+v, want %+v", rows, want)
			}
			if want := []RowError{c.want}; !reflect.DeepEqual(rowErrs, want) {
				t.Errorf("row errors:\n got %q\nwant %q", rowErrs, want)
			}
		})
	}
}

func TestParsePeopleCSVReadError(t *testing.T) {
	boom := errors.New("connection reset")
	rows, rowErrs, err := ParsePeopleCSV(iotest.TimeoutReader(strings.NewReader("username\nalice\n")))
	if err == nil || rows != nil || rowErrs != nil {
		t.Fatalf("got %v, %v, %v; want a read error", rows, rowErrs, err)
	}
	_, _, err = ParsePeopleCSV(iotest.ErrReader(boom))
	if !errors.Is(err, boom) || CodeOf(err) != Internal {
		t.Errorf("err = %v (code %v), want %v wrapped as internal", err, CodeOf(err), boom)
	}
}

func TestPeopleCSVHeaderMatchesProfileFields(t *testing.T) {
	var names []string
	for _, f := range ProfileFields {
		names = append(names, f.Name)
	}
	got := slices.Clone(PeopleCSVHeader[1:])
	slices.Sort(got)
	slices.Sort(names)
	if PeopleCSVHeader[0] != "username" || !slices.Equal(got, names) {
		t.Errorf("PeopleCSVHeader %v does not hold username and exactly the ProfileFields %v", PeopleCSVHeader, names)
	}
}

func TestPeopleCSVRecord(t *testing.T) {
	p := Person{User: User{Name: "alice"}, Profile: Profile{
		DisplayName: "Alice", Email: "alice@example.com", Title: "Engineer",
		Department: "R&D", Phone: "+33 1 23 45 67", TimeZone: "Europe/Paris", Bio: "Hi",
	}}
	want := []string{"alice", "Alice", "alice@example.com", "Engineer", "R&D", "+33 1 23 45 67", "Europe/Paris", "Hi"}
	if got := PeopleCSVRecord(p); !slices.Equal(got, want) {
		t.Errorf("PeopleCSVRecord = %q, want %q", got, want)
	}

	for _, c := range []struct {
		field, in, want string
	}{
		{"display_name", "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"title", "+x", "'+x"},
		{"department", "-1", "'-1"},
		{"email", "@x", "'@x"},
		{"bio", "\t=1+1", "'\t=1+1"},
		{"bio", "\r=1+1", "'\r=1+1"},
		{"bio", "=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"title", "a=b", "a=b"},
		{"title", " =1", " =1"},
		{"title", "'=already", "'=already"},
		{"title", "é=1", "é=1"},
		{"timezone", "", ""},
		{"phone", "+44 20 7946 0958", "+44 20 7946 0958"},
		{"phone", "-1 (555) 123.4567", "-1 (555) 123.4567"},
		{"phone", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"}, // not a valid phone: escaped
		{"phone", "=1+2", "'=1+2"},
	} {
		q := Person{User: User{Name: "bob"}, Profile: profileField(c.field).Set(Profile{}, c.in)}
		rec := PeopleCSVRecord(q)
		col := slices.Index(PeopleCSVHeader, c.field)
		if rec[col] != c.want {
			t.Errorf("%s %q exported as %q, want %q", c.field, c.in, rec[col], c.want)
		}
		for i, cell := range rec {
			if i != col && cell != map[int]string{0: "bob"}[i] {
				t.Errorf("%s %q: cell %d = %q, want it empty", c.field, c.in, i, cell)
			}
		}
	}

	q := Person{User: User{Name: "=evil"}}
	if got := PeopleCSVRecord(q)[0]; got != "'=evil" {
		t.Errorf("username %q exported as %q", q.Name, got)
	}
}

// What export writes, import reads back unchanged.
func TestPeopleCSVRoundTrip(t *testing.T) {
	people := []Person{
		{User: User{Name: "alice"}, Profile: Profile{
			DisplayName: "Alice Liddell", Title: "Engineer, Platform", Department: `R&D "core"`,
			Email: "alice@example.com", Phone: "+33 1 23 45 67", TimeZone: "Europe/Paris",
			Bio: "Line one,\nline \"two\"\n\n\tthree",
		}},
		{User: User{Name: "Bob.Smith-2"}, Profile: Profile{DisplayName: "Bøb 山田", Phone: "(555) 123-4567"}},
		{User: User{Name: "carol"}},
		{User: User{Name: "dave"}, Profile: Profile{Bio: "Ends with a quote '", Phone: "-44 20 7946 0958", TimeZone: "UTC"}},
	}
	for _, crlf := range []bool{false, true} {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.UseCRLF = crlf
		w.Write(PeopleCSVHeader)
		for _, p := range people {
			if clean, err := CleanProfile(p.Profile); err != nil || clean != p.Profile {
				t.Fatalf("test person %s is not clean: %v", p.Name, err)
			}
			w.Write(PeopleCSVRecord(p))
		}
		w.Flush()
		if err := w.Error(); err != nil {
			t.Fatal(err)
		}
		rows, rowErrs, err := ParsePeopleCSV(&buf)
		if err != nil || len(rowErrs) != 0 || len(rows) != len(people) {
			t.Fatalf("crlf=%v: got %d rows, %v, %v", crlf, len(rows), rowErrs, err)
		}
		for i, p := range people {
			if rows[i].Username != p.Name || rows[i].Profile != p.Profile {
				t.Errorf("crlf=%v: person %d came back as %+v, want %s %+v", crlf, i, rows[i], p.Name, p.Profile)
			}
		}
	}
}

// FuzzParsePeopleCSV checks that no file makes the parser panic, and that
// what it accepts is clean and in line order.
func FuzzParsePeopleCSV(f *testing.F) {
	for _, s := range []string{
		"username,display name\nalice,Alice\n",
		"\uFEFFusername,bio\nalice,\"a\nb\"\n,\nbob,\"x\"y\n",
		"username,email,phone\nalice,a@example.com,+1 555 0100\nALICE,,\n",
		"username\n\xff\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rows, rowErrs, err := ParsePeopleCSV(strings.NewReader(in))
		if err != nil {
			if rows != nil || rowErrs != nil || FieldOf(err) != "file" {
				t.Fatalf("file error %v came with rows or without the file field", err)
			}
			return
		}
		last := 0
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Line <= last {
				t.Fatalf("row lines out of order: %d after %d", r.Line, last)
			}
			last = r.Line
			if u, err := CleanUsername(r.Username); err != nil || u != r.Username {
				t.Fatalf("accepted username %q: %v", r.Username, err)
			}
			if p, err := CleanProfile(r.Profile); err != nil || p != r.Profile {
				t.Fatalf("accepted profile %+v: %v", r.Profile, err)
			}
			if k := strings.ToLower(r.Username); seen[k] {
				t.Fatalf("username %q accepted twice", r.Username)
			} else {
				seen[k] = true
			}
		}
		for i, e := range rowErrs {
			if e.Line < 2 || e.Reason == "" || (i > 0 && e.Line <= rowErrs[i-1].Line) {
				t.Fatalf("bad row errors %v", rowErrs)
			}
		}
	})
}
