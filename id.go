package crm

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

// NewID returns a new UUID, version 7: its first 48 bits are the Unix time in
// milliseconds, so ids sort roughly by creation time and keyset pages ordered
// by id come out newest first without a second sort key.
//
// Within one process ids are strictly increasing (RFC 9562 §6.2 method 1: a
// 12-bit counter in rand_a, the millisecond borrowed from the future when it
// overflows), so events written in one millisecond keep their order.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	ms, seq := nextTick()
	binary.BigEndian.PutUint64(b[:8], ms<<16|uint64(seq))
	b[6] = b[6]&0x0f | 0x70 // version 7
	b[8] = b[8]&0x3f | 0x80 // variant 10
	return FormatUUID(b)
}

// FormatUUID writes 16 bytes in the canonical lower-case UUID form.
func FormatUUID(b [16]byte) string {
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

var idClock struct {
	sync.Mutex
	ms  uint64
	seq uint16
}

func nextTick() (ms uint64, seq uint16) {
	idClock.Lock()
	defer idClock.Unlock()
	now := uint64(time.Now().UnixMilli())
	switch {
	case now > idClock.ms:
		idClock.ms, idClock.seq = now, 0
	case idClock.seq < 0x0fff:
		idClock.seq++
	default:
		idClock.ms, idClock.seq = idClock.ms+1, 0
	}
	return idClock.ms, idClock.seq
}

// NormalizeID returns the canonical form of an id as typed by a person or a
// client: trimmed and lower-cased, so that a UUID in capitals finds its row.
// The service applies it to every id it is given.
func NormalizeID(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidID reports whether s is a UUID in canonical lower-case form. An id that
// is not is simply not found: no store is asked. (A loop, not a regular
// expression: it runs several times on every request.)
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
