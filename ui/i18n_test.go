package ui

import (
	"maps"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// Both languages must have exactly the same keys: a key missing in one would
// show as ⟦key⟧ to its users.
func TestLocalesHaveTheSameKeys(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	en := slices.Sorted(maps.Keys(ls["en"].messages))
	for _, lang := range Languages {
		keys := slices.Sorted(maps.Keys(ls[lang].messages))
		for _, k := range en {
			if _, ok := slices.BinarySearch(keys, k); !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for _, k := range keys {
			if _, ok := slices.BinarySearch(en, k); !ok {
				t.Errorf("%s has %q, which en lacks", lang, k)
			}
			if ls[lang].messages[k] == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
		}
	}
}

func TestLocaleFormats(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 14, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, date, num, big string
	}{
		{"en", "25 Nov 2026 14:05", "0.78", "1,000,000"},
		{"uk", "25.11.2026 14:05", "0,78", "1\u00a0000\u00a0000"},
	} {
		l := ls[tc.lang]
		if got := l.Date(at); got != tc.date {
			t.Errorf("%s Date = %q, want %q", tc.lang, got, tc.date)
		}
		if got := l.Num(0.78); got != tc.num {
			t.Errorf("%s Num = %q, want %q", tc.lang, got, tc.num)
		}
		if got := l.Int(1000000); got != tc.big {
			t.Errorf("%s Int = %q, want %q", tc.lang, got, tc.big)
		}
	}
	if got := ls["en"].T("flash.analyzed", "0.90", "x"); got != "Analysis done: score 0.90, x." {
		t.Errorf("T with args = %q", got)
	}
	if got := ls["en"].T("no.such.key"); got != "⟦no.such.key⟧" {
		t.Errorf("missing key = %q", got)
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ header, cookie, want string }{
		{"", "", "en"},
		{"uk-UA,uk;q=0.9,en;q=0.8", "", "uk"},
		{"de-DE,de;q=0.9,uk;q=0.5,en;q=0.4", "", "uk"},
		{"en-GB,en;q=0.9,uk;q=0.8", "", "en"},
		{"fr", "", "en"},
		{"uk;q=0, en", "", "en"},
		{"uk", "en", "en"},
		{"en", "uk", "uk"},
		{"en", "xx", "en"},
	} {
		r := httptest.NewRequest("GET", "/app/login", nil)
		if tc.header != "" {
			r.Header.Set("Accept-Language", tc.header)
		}
		if tc.cookie != "" {
			r.Header.Set("Cookie", langCookie+"="+tc.cookie)
		}
		if got := negotiate(r); got != tc.want {
			t.Errorf("Accept-Language %q, cookie %q: %s, want %s", tc.header, tc.cookie, got, tc.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]bool{"/app/leads": true, "/app/leads?x=1": true, "//evil.example/app/": false,
		"https://evil.example/app/": false, "/leads": false, "/app/\\evil": false} {
		if localPath(p) != want {
			t.Errorf("localPath(%q) = %v", p, !want)
		}
	}
}
