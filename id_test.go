package crm

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestNewIDFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		before := time.Now().UnixMilli()
		id := NewID()
		after := time.Now().UnixMilli()
		if !ValidID(id) || len(id) != 36 {
			t.Fatalf("NewID() = %q is not a canonical UUID", id)
		}
		if id[14] != '7' {
			t.Fatalf("NewID() = %q: version %c, want 7", id, id[14])
		}
		if !strings.ContainsRune("89ab", rune(id[19])) {
			t.Fatalf("NewID() = %q: variant nibble %c, want 8, 9, a or b", id, id[19])
		}
		b, err := hex.DecodeString(strings.ReplaceAll(id, "-", "")[:12])
		if err != nil {
			t.Fatal(err)
		}
		var ms int64
		for _, c := range b {
			ms = ms<<8 | int64(c)
		}
		if ms < before || ms > after {
			t.Fatalf("NewID() = %q: timestamp %d outside [%d, %d]", id, ms, before, after)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestNewIDOrderAcrossMilliseconds(t *testing.T) {
	// Ids made in later milliseconds sort after earlier ones, as strings:
	// keyset pages ordered by id come out newest first.
	prev := NewID()
	for range 5 {
		ms := time.Now().UnixMilli() // prev was made in this millisecond or before
		for time.Now().UnixMilli() <= ms {
			time.Sleep(100 * time.Microsecond)
		}
		id := NewID()
		if id <= prev {
			t.Errorf("NewID() = %s in a later millisecond sorts before %s", id, prev)
		}
		prev = id
	}
}

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"01a212bf-bf60-734c-9a28-26656b6d79c4", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{NewID(), true},
		{"01A212BF-BF60-734C-9A28-26656B6D79C4", false},
		{"01a212bfbf60734c9a2826656b6d79c4", false},
		{"{01a212bf-bf60-734c-9a28-26656b6d79c4}", false},
		{"01a212bf-bf60-734c-9a28-26656b6d79c", false},
		{"01a212bf-bf60-734c-9a28-26656b6d79c4a", false},
		{"01a212bf-bf60-734c-9a28-26656b6d79cg", false},
		{" 01a212bf-bf60-734c-9a28-26656b6d79c4", false},
		{"01a212bf-bf60-734c-9a28-26656b6d79c4\n", false},
		{"", false},
		{"' OR 1=1 --", false},
		{"01a212bf-bf60-734c-9a28x26656b6d79c4", false},
		{"01a212bf-bf60-734c-9a2-826656b6d79c4", false},
	} {
		if got := ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
