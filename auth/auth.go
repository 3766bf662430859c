// Package auth holds the two credentials of the service: passwords, hashed with
// bcrypt, and access tokens, signed JWTs (HS256, pinned).
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/crmleads/crm"
)

// Bcrypt hashes passwords with bcrypt; it implements crm.PasswordHasher.
type Bcrypt struct {
	Cost int // bcrypt.DefaultCost when 0
}

// Hash returns the bcrypt hash of password.
func (b Bcrypt) Hash(password string) (string, error) {
	cost := b.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	// bcrypt reads at most 72 bytes; crm limits passwords to 200 characters,
	// so longer ones are refused here rather than silently truncated.
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", crm.Invalid(crm.FieldError{Field: "password", Message: "must be at most 72 bytes"})
	}
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Compare returns nil when password matches hash.
func (Bcrypt) Compare(hash, password string) error {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
}

// Issuer is the iss claim of every token.
const Issuer = "crmleads"

// DefaultTTL is the lifetime of an access token.
const DefaultTTL = time.Hour

// Tokens issues and verifies access tokens.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens returns a token issuer signing with key; ttl 0 means DefaultTTL.
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Tokens{key: key, ttl: ttl, now: time.Now}
}

// TTL returns the lifetime of the tokens issued.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// tokenClaims are the claims of an access token: the registered ones and the
// user's token version ("ver"; absent in tokens issued before versions
// existed, which reads as 0, every user's first version).
//
// The role ("role") rides in the token so that a store that checks the user
// in the request's own statement (crm.ActorChecker) knows it before the
// request reaches the database; that check fails the token when the role is
// no longer the user's. Tokens without it (issued by Issue, or before roles
// were carried) are checked by reading the user first.
type tokenClaims struct {
	jwt.RegisteredClaims
	Version int      `json:"ver,omitempty"`
	Role    crm.Role `json:"role,omitempty"`
}

// Issue returns a signed token for the user at its current token version
// (crm.User.TokenVersion): raising the version ends the token. It carries
// no role; sign-ins use IssueUser.
func (t *Tokens) Issue(userID string, version int) (string, error) {
	return t.issue(userID, version, "")
}

// IssueUser returns a signed token for u at its current token version and
// role.
func (t *Tokens) IssueUser(u *crm.User) (string, error) {
	return t.issue(u.ID, u.TokenVersion, u.Role)
}

func (t *Tokens) issue(userID string, version int, role crm.Role) (string, error) {
	now := t.now()
	c := tokenClaims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    Issuer,
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
	}, Version: version, Role: role}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature (HS256 only: "none" and every other
// algorithm are refused), issuer and expiry, and returns the user id and the
// token version. Whether that version is still the user's is for
// crm.UserService.ActiveUser to say.
func (t *Tokens) Verify(token string) (userID string, version int, err error) {
	c, err := t.Claim(token)
	return c.UserID, c.Version, err
}

// Claim is Verify returning the whole claim, the role included ("" when the
// token carries none).
func (t *Tokens) Claim(token string) (crm.ActorClaim, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil || c.Version < 0 || (c.Role != "" && !c.Role.Valid()) {
		return crm.ActorClaim{}, crm.Errorf(crm.EUNAUTHORIZED, crm.CodeUnauthorized, "the token is not valid")
	}
	return crm.ActorClaim{UserID: c.Subject, Version: c.Version, Role: c.Role}, nil
}

// SecretSetting is the settings key of the generated signing key.
const SecretSetting = "jwt_secret"

// SigningKey returns configured when set, else the key kept in the database,
// generating it on first use; every replica reads the same one.
func SigningKey(ctx context.Context, st crm.Store, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v, err := st.EnsureSetting(ctx, SecretSetting, base64.RawStdEncoding.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("signing key: stored value is not base64: %w", err)
	}
	return key, nil
}
