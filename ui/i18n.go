package ui

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmleads/crm"
)

//go:embed locales/*.json
var localeFS embed.FS

// Languages lists the languages of the web app; the first is the fallback.
var Languages = []string{"en", "uk"}

// Locale is one language's catalog with its date and number formats. Templates
// reach it as $.L: {{$.L.T "nav.leads"}}, {{$.L.Date .CreatedAt}}, {{$.L.Num 0.78}}.
type Locale struct {
	Lang     string
	messages map[string]string
}

// loadLocales reads every catalog; a catalog that is missing or is not valid
// JSON stops the program at start.
func loadLocales() (map[string]*Locale, error) {
	out := map[string]*Locale{}
	for _, lang := range Languages {
		b, err := localeFS.ReadFile("locales/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("ui: locale %s: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("ui: locale %s: %w", lang, err)
		}
		out[lang] = &Locale{Lang: lang, messages: m}
	}
	return out, nil
}

// T returns the message for key with args substituted in order for {0}, {1}…
// A missing key shows as ⟦key⟧, so that a forgotten translation is visible in
// the page and caught by the tests that render every page.
func (l *Locale) T(key string, args ...any) string {
	s, ok := l.messages[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	for i, a := range args {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", fmt.Sprint(a))
	}
	return s
}

// Has reports whether the catalog has key.
func (l *Locale) Has(key string) bool { _, ok := l.messages[key]; return ok }

// TOr returns the message for key, or fallback when the catalog has none.
func (l *Locale) TOr(key, fallback string) string {
	if l.Has(key) {
		return l.T(key)
	}
	return fallback
}

// Date formats a time for the locale, in UTC: uk 25.11.2026 14:05, en 25 Nov 2026 14:05.
func (l *Locale) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	t = t.UTC()
	if l.Lang == "uk" {
		return t.Format("02.01.2006 15:04")
	}
	return t.Format("2 Jan 2006 15:04")
}

// Money formats an amount in its currency's minor units, with the locale's
// decimal separator: uk 1250,00 UAH, en 1250.00 UAH.
func (l *Locale) Money(a crm.Amount, currency string) string {
	return l.Decimal(a.Format(currency)) + "\u00a0" + currency
}

// Decimal writes a decimal string ("1250.00") with the locale's separator.
func (l *Locale) Decimal(s string) string {
	if l.Lang == "uk" {
		return strings.Replace(s, ".", ",", 1)
	}
	return s
}

// ReadDecimal reads an amount typed in the locale back into the service's
// form: in Ukrainian a decimal comma is a point (a point is kept too).
func (l *Locale) ReadDecimal(s string) string {
	if l.Lang == "uk" && !strings.Contains(s, ".") && strings.Count(s, ",") == 1 {
		return strings.Replace(s, ",", ".", 1)
	}
	return s
}

// ISO is the machine-readable form of a time, for <time datetime>.
func (l *Locale) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Num formats a fraction with two decimals: uk 0,78, en 0.78.
func (l *Locale) Num(f float64) string {
	s := strconv.FormatFloat(math.Round(f*100)/100, 'f', 2, 64)
	if l.Lang == "uk" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Int formats a whole number with the locale's group separator: uk 1 000 000, en 1,000,000.
func (l *Locale) Int(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if l.Lang == "uk" {
		sep = "\u00a0"
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// langCookie keeps the user's choice of language.
const langCookie = "crm_lang"

// negotiate picks the language of a request: the cookie when it names a
// language we have, else the best match of Accept-Language, else English.
func negotiate(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && slices.Contains(Languages, c.Value) {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage returns the supported language with the highest q in an
// Accept-Language header (ties go to the earlier entry), or the fallback.
func fromAcceptLanguage(h string) string {
	best, bestQ := Languages[0], -1.0
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if q > 0 && q > bestQ && slices.Contains(Languages, primary) {
			best, bestQ = primary, q
		}
	}
	return best
}

// Date and time fields. A browser draws <input type=datetime-local> in its
// own locale, not the page's lang: a Ukrainian page in an English browser
// would show mm/dd/yyyy. So a Ukrainian form types the time as text in the
// Ukrainian way, дд.мм.рррр гг:хх, which the server reads back; an English
// form keeps the browser's datetime-local field. Either form's value is read
// by ReadDateTime, so a form posted in one language and read in the other
// still works. Times are UTC, as every page shows them (Locale.Date).
const (
	formTime   = "2006-01-02T15:04" // datetime-local
	ukFormTime = "02.01.2006 15:04" // what a Ukrainian form shows
)

// TextDateTime reports whether the locale's forms type times as text.
func (l *Locale) TextDateTime() bool { return l.Lang == "uk" }

// DateTimeValue is t as the locale's time field shows it.
func (l *Locale) DateTimeValue(t time.Time) string {
	if l.TextDateTime() {
		return t.UTC().Format(ukFormTime)
	}
	return t.UTC().Format(formTime)
}

// DateTimePattern is the pattern attribute of a text time field: the day and
// month of one or two digits, seconds optional.
const DateTimePattern = `\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}(:\d{2})?`

// ReadDateTime reads a time typed in a form: дд.мм.рррр гг:хх (seconds
// optional), a datetime-local value, or RFC 3339. It reports false for an
// empty or unreadable value, and for a date that does not exist (31.02).
func ReadDateTime(s string) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	for _, layout := range []string{"2.1.2006 15:04", "2.1.2006 15:04:05", formTime, formTime + ":05"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Date fields (a day, no time): the same choice as for times. An English form
// keeps <input type=date> (its value is yyyy-mm-dd); a Ukrainian one types
// дд.мм.рррр as text.
const ukFormDate = "02.01.2006"

// DatePattern is the pattern attribute of a text date field.
const DatePattern = `\d{1,2}\.\d{1,2}\.\d{4}`

// DateValue writes a day as the locale's date field shows it; a value that
// is not a day (typed by hand) is shown as it is.
func (l *Locale) DateValue(s string) string {
	t, ok := ReadDate(s)
	if !ok {
		return s
	}
	if l.TextDateTime() {
		return t.Format(ukFormDate)
	}
	return t.Format("2006-01-02")
}

// ReadDate reads a day typed in a form: дд.мм.рррр or yyyy-mm-dd, as a UTC
// midnight; false for anything else.
func ReadDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2.1.2006", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
