package chat

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxImportRows bounds one CSV import, so a single upload cannot tie the
// server up validating and creating an unbounded number of accounts.
const MaxImportRows = 5000

// MaxImportBytes bounds the uploaded file. The whole file is held in memory
// while it is parsed, so the bound is also the memory one import may use.
const MaxImportBytes = 2 << 20

// PeopleCSVHeader is the export's header row. Import reads the same columns
// (in any order, only username required), so an export can be edited in a
// spreadsheet and imported again.
var PeopleCSVHeader = []string{"username", "display_name", "email", "title", "department", "phone", "timezone", "bio"}

// ImportRow is one person read from an import file.
type ImportRow struct {
	Line     int // the file line the record starts on, 1-based; the header is line 1
	Username string
	Profile  Profile
}

// RowError is why one line of an import file was refused. The rest of the
// file is still imported, so the person can fix just the lines named.
type RowError struct {
	Line   int // the file line the record starts on, 1-based
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ParsePeopleCSV reads an import file: a header row naming columns from
// PeopleCSVHeader (case-insensitive, spaces or underscores, any order,
// username required), then one person per record. Blank records are skipped.
//
// It returns every good row, and one RowError per bad record, in line order.
// A problem with the file as a whole (empty, not CSV text, a bad header, more
// than MaxImportRows people) is returned as err, an *Error on field "file"
// with code Invalid (TooLarge beyond MaxImportBytes), and no rows; a failure
// reading r is returned wrapped. A CSV syntax error after the header is a
// RowError at the record where it starts, and ends the parse: past a broken
// quote the record boundaries cannot be trusted.
//
// Cells are taken as they are: a leading ' added by PeopleCSVRecord to stop
// formulas is kept, since the importer cannot tell it from a real one.
func ParsePeopleCSV(r io.Reader) ([]ImportRow, []RowError, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("chat: reading import file: %w", err)
	}
	if len(data) > MaxImportBytes {
		return nil, nil, FieldErrorf("file", TooLarge, "The file is larger than %d MB; split it into smaller files.", MaxImportBytes>>20)
	}
	// Excel writes a byte order mark at the start of "CSV UTF-8" files.
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return nil, nil, importFileErr("This is a spreadsheet workbook, not a CSV file; save it as CSV (UTF-8) and upload that.")
	}

	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1 // row width is checked here, to report it per line
	var (
		cols    []string // the column each cell holds; "" under a blank header cell
		rows    []ImportRow
		rowErrs []RowError
		first   = map[string]int{} // lower-case username → line it first appears on
		n       int
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("chat: reading import file: %w", err)
			}
			if cols == nil {
				return nil, nil, importFileErr("The file is not valid CSV: %v on line %d.", pe.Err, pe.Line)
			}
			reason := fmt.Sprintf("This is not valid CSV (%v", pe.Err)
			if pe.Line != pe.StartLine {
				reason += fmt.Sprintf(", on line %d", pe.Line)
			}
			reason += "); this line and the rest of the file were not read."
			rowErrs = append(rowErrs, RowError{pe.StartLine, reason})
			break
		}
		if isBlankRecord(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			if cols, err = parseImportHeader(rec); err != nil {
				return nil, nil, err
			}
			continue
		}
		if n++; n > MaxImportRows {
			return nil, nil, importFileErr("The file has more than %d people; split it into smaller files.", MaxImportRows)
		}
		row, reasons := parseImportRecord(cols, rec)
		row.Line = line
		if row.Username != "" {
			key := strings.ToLower(row.Username)
			if at, dup := first[key]; dup {
				reasons = append([]string{fmt.Sprintf("Username %q already appears on line %d.", row.Username, at)}, reasons...)
			} else {
				first[key] = line
			}
		}
		if len(reasons) > 0 {
			rowErrs = append(rowErrs, RowError{line, strings.Join(reasons, "; ")})
			continue
		}
		rows = append(rows, row)
	}
	if cols == nil {
		return nil, nil, importFileErr("The file is empty.")
	}
	return rows, rowErrs, nil
}

func importFileErr(format string, args ...any) error {
	return FieldErrorf("file", Invalid, format, args...)
}

// parseImportHeader maps each header cell to its PeopleCSVHeader column.
func parseImportHeader(rec []string) ([]string, error) {
	cols := make([]string, len(rec))
	at := map[string]int{}
	for i, cell := range rec {
		// A UTF-16 or legacy-encoded file fails here, before its rows
		// produce a screenful of confusing errors.
		if !utf8.ValidString(cell) || strings.ContainsRune(cell, 0) {
			return nil, importFileErr("The file is not UTF-8 text; save it as CSV (UTF-8) and upload that.")
		}
		name := strings.TrimSpace(cell)
		if name == "" {
			continue // spreadsheets often leave empty columns at the end
		}
		for _, h := range PeopleCSVHeader {
			if columnKey(h) == columnKey(name) {
				cols[i] = h
			}
		}
		if cols[i] == "" {
			return nil, importFileErr("Unknown column %q; the first row must name columns from: %s.", clipRunes(name, 40), strings.Join(PeopleCSVHeader, ", "))
		}
		if j, dup := at[cols[i]]; dup {
			return nil, importFileErr("Column %q appears twice (columns %d and %d).", name, j+1, i+1)
		}
		at[cols[i]] = i
	}
	if _, ok := at["username"]; !ok {
		return nil, importFileErr("The header row has no username column.")
	}
	return cols, nil
}

// columnKey folds the spellings people give a column ("Display Name",
// "display_name") to one key.
func columnKey(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// parseImportRecord cleans one data record. The reasons are its problems:
// the username's first, then the profile's in ProfileFields order.
func parseImportRecord(cols, rec []string) (ImportRow, []string) {
	var row ImportRow
	if len(rec) > len(cols) && !isBlankRecord(rec[len(cols):]) {
		return row, []string{fmt.Sprintf("This row has %d cells, the header has %d.", len(rec), len(cols))}
	}
	var reasons []string
	var user string
	for i, col := range cols {
		if i >= len(rec) {
			break // a short row leaves the remaining columns empty
		}
		switch col {
		case "":
			if strings.TrimSpace(rec[i]) != "" {
				return row, []string{fmt.Sprintf("Column %d has a value but no header.", i+1)}
			}
		case "username":
			user = rec[i]
		default:
			row.Profile = profileField(col).Set(row.Profile, rec[i])
		}
	}
	if strings.TrimSpace(user) == "" {
		reasons = append(reasons, "Username is required.")
	} else if u, err := CleanUsername(user); err != nil {
		reasons = append(reasons, ErrorText(err))
	} else {
		row.Username = u
	}
	p, err := CleanProfile(row.Profile)
	if err != nil {
		msgs := FieldErrors(err)
		for _, f := range ProfileFields {
			if m, ok := msgs[f.Name]; ok {
				reasons = append(reasons, m)
			}
		}
		if len(msgs) == 0 {
			reasons = append(reasons, ErrorText(err))
		}
	}
	row.Profile = p
	return row, reasons
}

func isBlankRecord(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// clipRunes shortens s for quoting in a message; a binary file's "header"
// could otherwise fill the page.
func clipRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// PeopleCSVRecord is one person's export row, in PeopleCSVHeader order.
//
// A cell starting with = + - @ tab or CR would be run as a formula by a
// spreadsheet opening the file (CSV injection, per OWASP), so it gets a
// leading ' which spreadsheets show as text. Phone numbers are left alone:
// validation keeps them to digits and + - . ( ) space, which cannot call a
// function, and "+44 …" must stay intact. ParsePeopleCSV does not strip the
// quote, so such a cell comes back with it.
func PeopleCSVRecord(p Person) []string {
	rec := make([]string, len(PeopleCSVHeader))
	for i, col := range PeopleCSVHeader {
		v := p.Name
		if col != "username" {
			v = profileField(col).Value(p.Profile)
		}
		if col == "phone" && strings.Trim(v, "0123456789+-.() ") == "" {
			rec[i] = v
			continue
		}
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			v = "'" + v
		}
		rec[i] = v
	}
	return rec
}
