package crm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of one import, stated in the OpenAPI description. A file is read as
// it arrives and its records go to the database a batch at a time, so memory
// stays at one batch (and one record, bounded by MaxImportRecordBytes)
// whatever the file's size; the limits bound the database's share.
const (
	MaxImportBytes       = 256 << 20 // 256 MiB
	MaxImportRecords     = 1_000_000
	MaxImportColumns     = 100
	MaxImportRecordBytes = 1 << 20 // one record, quoted newlines included
	// MaxImportErrors is how many row errors an import keeps and shows.
	MaxImportErrors = 100
	// ImportBatch is how many records are written, validated or imported
	// per transaction.
	ImportBatch = 500
)

// Codes of an import refused at upload.
const (
	CodeImportNotCSV   = "import_not_csv"
	CodeImportTooLarge = "import_too_large"
)

// ImportFields are the lead fields an import can fill: those of POST /leads.
var ImportFields = []string{"source", "business_domain", "messages_count", "name", "email", "phone", "company",
	"note", "owner_id"}

// headerNames maps a folded header (see foldHeader) to the field it fills:
// the export's own headers (LeadColumns), English ones and the Ukrainian
// labels of the app. Export columns the service sets itself (id, stage, the
// AI's, the times) are recognised and left unmapped: an import creates new
// leads at stage new, as POST /leads does.
var headerNames = func() map[string]string {
	m := map[string]string{}
	add := func(field string, names ...string) {
		for _, n := range names {
			m[foldHeader(n)] = field
		}
	}
	add("source", "source", "lead source", "джерело", "джерело ліда")
	add("business_domain", "business_domain", "business domain", "domain", "industry", "бізнес-домен", "бізнес домен",
		"домен", "галузь", "сфера")
	add("messages_count", "messages_count", "messages", "messages count", "communications", "повідомлення",
		"кількість повідомлень")
	add("name", "name", "full name", "contact", "contact name", "ім’я", "ім'я", "імʼя", "піб", "контакт", "контактна особа")
	add("email", "email", "e-mail", "email address", "mail", "електронна пошта", "ел. пошта", "пошта", "емейл")
	add("phone", "phone", "phone number", "telephone", "tel", "mobile", "телефон", "тел", "номер телефону", "мобільний")
	add("company", "company", "company name", "organization", "organisation", "компанія", "організація", "фірма")
	add("note", "note", "notes", "comment", "comments", "нотатка", "нотатки", "примітка", "коментар")
	add("owner_id", "owner_id", "owner id", "owner", "відповідальний", "власник")
	return m
}()

// foldHeader is how headers are compared: trimmed, lower-case, with runs of
// spaces, underscores and hyphens read as one space.
func foldHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '_' || r == '-'
	}), " ")
}

// DefaultMapping maps each header to the field it names ("" when it names
// none, or a field an earlier column already fills).
func DefaultMapping(header []string) []string {
	out := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		if f := headerNames[foldHeader(h)]; f != "" && !seen[f] {
			out[i], seen[f] = f, true
		}
	}
	return out
}

// CheckMapping returns EINVALID unless mapping has one entry per column, each
// "" or an ImportFields field, no field twice.
func CheckMapping(mapping []string, columns int) error {
	if len(mapping) != columns {
		return Invalid(FieldError{Field: "mapping", Message: fmt.Sprintf("must have one entry per column (%d)", columns)})
	}
	seen := map[string]bool{}
	for i, f := range mapping {
		if f == "" {
			continue
		}
		if !slicesContains(ImportFields, f) {
			return Invalid(FieldError{Field: fmt.Sprintf("mapping[%d]", i),
				Message: "must be empty or one of " + strings.Join(ImportFields, ", ")})
		}
		if seen[f] {
			return Invalid(FieldError{Field: fmt.Sprintf("mapping[%d]", i), Message: "maps " + f + " a second time"})
		}
		seen[f] = true
	}
	return nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// RowInput turns a record into the input POST /leads would get, through the
// mapping: cells are un-neutralised (a leading ' before =, +, - or @ dropped,
// as the export adds it), an empty source takes the import's default, an
// empty messages_count is 0. A messages_count that is not a whole number is a
// field error, as a wrong JSON type is for POST /leads.
func RowInput(fields, mapping []string, defaultSource Source) (LeadInput, []FieldError) {
	var in LeadInput
	var fe []FieldError
	for i, f := range mapping {
		if f == "" || i >= len(fields) {
			continue
		}
		v := UnneutralizeCell(fields[i])
		switch f {
		case "source":
			in.Source = Source(strings.TrimSpace(v))
		case "business_domain":
			in.BusinessDomain = v
		case "messages_count":
			if t := strings.TrimSpace(v); t != "" {
				n, err := strconv.Atoi(t)
				if err != nil {
					fe = append(fe, FieldError{Field: "messages_count", Message: "must be a whole number"})
				}
				in.MessagesCount = n
			}
		case "name":
			in.Name = v
		case "email":
			in.Email = v
		case "phone":
			in.Phone = v
		case "company":
			in.Company = v
		case "note":
			in.Note = v
		case "owner_id":
			in.OwnerID = v
		}
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
	return in, fe
}

// CSVFile is an upload being read: its header, separator and records, and
// the SHA-256 of every byte read (the file's content hash, which makes a
// second import of the same file skip what the first imported).
type CSVFile struct {
	Header    []string
	Separator rune

	r       *csv.Reader
	lim     *recordLimit
	hash    hash.Hash
	records int
}

// ReadCSV starts reading a CSV file: UTF-8 with or without a BOM, comma- or
// semicolon-separated (whichever the header line holds more of, outside
// quotes), quoted fields may hold newlines. It reads the header. Errors:
// EINVALID (CodeImportNotCSV) for a file that is not UTF-8 CSV text.
func ReadCSV(r io.Reader) (*CSVFile, error) {
	h := sha256.New()
	lim := &recordLimit{r: io.TeeReader(r, h)}
	br := bufio.NewReaderSize(lim, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	sep := sniffSeparator(head)
	cr := csv.NewReader(br)
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	f := &CSVFile{Separator: sep, r: cr, lim: lim, hash: h}
	header, err := f.next()
	if errors.Is(err, io.EOF) {
		return nil, notCSV("the file is empty: it needs a header line naming the columns, then one line per lead")
	}
	if err != nil {
		return nil, err
	}
	f.Header = make([]string, len(header))
	for i, h := range header {
		f.Header[i] = strings.TrimSpace(h)
	}
	return f, nil
}

// Next returns the next record (its slice is reused by the next call) and
// its 1-based number, the header not counted; io.EOF after the last.
// Errors: EINVALID (CodeImportNotCSV, CodeImportTooLarge).
func (f *CSVFile) Next() ([]string, int, error) {
	rec, err := f.next()
	if err != nil {
		return nil, 0, err
	}
	f.records++
	if f.records > MaxImportRecords {
		return nil, 0, Errorf(EINVALID, CodeImportTooLarge, "the file has more than %d records; split it", MaxImportRecords)
	}
	return rec, f.records, nil
}

// Hash returns the hex SHA-256 of the bytes read so far (the whole file after
// Next returned io.EOF).
func (f *CSVFile) Hash() string { return hex.EncodeToString(f.hash.Sum(nil)) }

func (f *CSVFile) next() ([]string, error) {
	f.lim.start()
	rec, err := f.r.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		case errors.Is(err, errRecordTooLarge):
			return nil, Errorf(EINVALID, CodeImportTooLarge, "a record is longer than %d bytes (an unclosed quote?)", MaxImportRecordBytes)
		case errors.Is(err, errFileTooLarge):
			return nil, Errorf(EINVALID, CodeImportTooLarge, "the file is larger than %d MiB; split it", MaxImportBytes>>20)
		case errors.As(err, &pe):
			return nil, notCSV(fmt.Sprintf("not a CSV file: line %d: %v", pe.Line, pe.Err))
		}
		return nil, err // the connection, not the file
	}
	if len(rec) > MaxImportColumns {
		return nil, notCSV(fmt.Sprintf("line %d has %d columns; at most %d are read", f.lineOf(), len(rec), MaxImportColumns))
	}
	for _, v := range rec {
		if !utf8.ValidString(v) {
			return nil, notCSV(fmt.Sprintf("line %d is not UTF-8 text: save the file as \"CSV UTF-8\"", f.lineOf()))
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, notCSV(fmt.Sprintf("line %d holds a NUL byte: this is not a text CSV file", f.lineOf()))
		}
	}
	return rec, nil
}

func (f *CSVFile) lineOf() int {
	line, _ := f.r.FieldPos(0)
	return line
}

func notCSV(msg string) *Error { return Errorf(EINVALID, CodeImportNotCSV, "%s", msg) }

// sniffSeparator picks ';' when the first line holds more semicolons than
// commas outside quotes (Excel in Ukrainian locales writes ;), else ','.
func sniffSeparator(head []byte) rune {
	commas, semis, quoted := 0, 0, false
	for _, c := range head {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			if semis > commas {
				return ';'
			}
			return ','
		case c == ',':
			commas++
		case c == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

var (
	errRecordTooLarge = errors.New("record too large")
	errFileTooLarge   = errors.New("file too large")
)

// recordLimit fails a read once more than MaxImportRecordBytes were read
// since start (one record, give or take the reader's buffer) or more than
// MaxImportBytes in all, so neither one record nor the file grows memory or
// the database without bound.
type recordLimit struct {
	r            io.Reader
	total, since int64
}

func (l *recordLimit) start() { l.since = 0 }

func (l *recordLimit) Read(p []byte) (int, error) {
	if l.since > MaxImportRecordBytes+128<<10 {
		return 0, errRecordTooLarge
	}
	if l.total > MaxImportBytes {
		return 0, errFileTooLarge
	}
	n, err := l.r.Read(p)
	l.total += int64(n)
	l.since += int64(n)
	return n, err
}
