package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokenRoundTrip(t *testing.T) {
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute)
	for _, version := range []int{0, 7} {
		s, err := tk.Issue("u1", version)
		if err != nil {
			t.Fatal(err)
		}
		id, v, err := tk.Verify(s)
		if err != nil || id != "u1" || v != version {
			t.Fatalf("Verify = %q, %d, %v; want u1, %d, nil", id, v, err, version)
		}
	}
	// A token from before versions existed has none: version 0.
	key := []byte("0123456789abcdef0123456789abcdef")
	legacy, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Issuer: Issuer, Subject: "u1",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString(key)
	if id, v, err := tk.Verify(legacy); err != nil || id != "u1" || v != 0 {
		t.Errorf("Verify(token without ver) = %q, %d, %v; want u1, 0, nil", id, v, err)
	}
}

func TestTokenRejects(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tk := NewTokens(key, time.Minute)
	good, _ := tk.Issue("u1", 0)
	claims := jwt.RegisteredClaims{Issuer: Issuer, Subject: "u1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, claims).SignedString(key)
	other, _ := NewTokens([]byte("another key, another key, another"), time.Minute).Issue("u1", 0)
	expired := NewTokens(key, time.Minute)
	expired.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	old, _ := expired.Issue("u1", 0)
	wrongIss, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Issuer: "x", Subject: "u1",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString(key)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{Issuer: Issuer, Subject: "u1"}).SignedString(key)
	negative, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, tokenClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer,
		Subject: "u1", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Version: -1}).SignedString(key)
	badVer, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": Issuer, "sub": "u1",
		"exp": time.Now().Add(time.Hour).Unix(), "ver": "1"}).SignedString(key)
	for name, tok := range map[string]string{
		"alg none": none, "HS512": hs512, "other key": other, "expired": old, "wrong issuer": wrongIss,
		"no expiry": noExp, "negative version": negative, "version not a number": badVer, "garbage": "abc.def.ghi", "tampered": strings.TrimSuffix(good, good[len(good)-2:]) + "xx",
	} {
		if _, _, err := tk.Verify(tok); err == nil {
			t.Errorf("%s: Verify accepted the token", name)
		}
	}
}

func TestBcrypt(t *testing.T) {
	b := Bcrypt{Cost: 4}
	h, err := b.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Compare(h, "correct horse battery"); err != nil {
		t.Errorf("Compare(right) = %v", err)
	}
	if err := b.Compare(h, "wrong horse battery"); err == nil {
		t.Error("Compare(wrong) = nil")
	}
	if _, err := b.Hash(strings.Repeat("é", 40)); err == nil {
		t.Error("Hash of 80 bytes: want an error, bcrypt would truncate")
	}
}
