package crm

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzImportCSV: whatever bytes arrive, reading them as an import never
// panics; it either refuses them with EINVALID (not CSV, too large) or yields
// records numbered 1, 2, … whose every field is text the service accepts, and
// each record turns into a lead input (RowInput) with nothing but known
// fields set.
func FuzzImportCSV(f *testing.F) {
	for _, seed := range []string{"source,name\nmanual,Ann\n", "\ufeffДжерело;Ім’я\r\npartner;\"a\nb\"\r\n",
		"name\n\"unclosed\n", "a,b\nx\"y,z\n", "name\n\xff\n", "", "h\n'=1,'+380\n", "a;b,c\n1;2,3\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadCSV(strings.NewReader(string(data)))
		if err != nil {
			checkRefusal(t, err)
			return
		}
		mapping := DefaultMapping(file.Header)
		if CheckMapping(mapping, len(file.Header)) != nil {
			t.Fatalf("the default mapping of %q is refused", file.Header)
		}
		for want := 1; ; want++ {
			rec, n, err := file.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				checkRefusal(t, err)
				return
			}
			if n != want {
				t.Fatalf("record %d numbered %d", want, n)
			}
			for _, v := range rec {
				if !ValidText(v) {
					t.Fatalf("record %d holds %q", n, v)
				}
			}
			in, _ := RowInput(rec, mapping, SourceManual)
			if in.Source == "" {
				t.Fatalf("record %d: no source despite the default", n)
			}
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != EINVALID || (e.Code != CodeImportNotCSV && e.Code != CodeImportTooLarge) {
		t.Fatalf("refused with %v, want EINVALID %s or %s", err, CodeImportNotCSV, CodeImportTooLarge)
	}
}
