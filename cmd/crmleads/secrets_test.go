package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crmleads/crm/ai/fakeclaude"
	"github.com/crmleads/crm/internal/testdb"
)

// TestSecretsNeverLogged runs the real program at debug level, on both
// stores (text logs on one, JSON on the other), and goes through every path
// a secret travels: sign-in by the API and the pages with right and wrong
// passwords, bearer tokens good and forged, a session cookie, a user created
// with a password, a password change (a wrong current password too), the AI
// key in the configuration with the AI failing (a 5xx answer), the JWT
// signing key, a database password in DATABASE_URL, webhook signing secrets
// (created and rotated) with a receiver that fails, and a Telegram bot token
// whose Bot API refuses it and echoes its URL. None of those strings may
// appear in anything the program writes, start-up lines included.
func TestSecretsNeverLogged(t *testing.T) {
	for i, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			const (
				adminPW   = "adminSecretPW-7f3a9"
				managerPW = "managerSecretPW-41c2"
				newPW     = "newSecretPW-9d8e7"
				wrongPW   = "wrongGuessPW-3b1c"
				jwtKey    = "jwtSigningKey-5e6f7a8b9c0d1e2f3a4b5c6d"
				apiKey    = "sk-ant-api03-secretKey-a1b2c3d4e5"
				tgToken   = "987654321:AAsecretBotToken-x9y8z7w6"
				dbPW      = "dbSecretPW-0a9b8c"
			)
			fake := fakeclaude.New()
			t.Cleanup(fake.Close)
			// The AI fails, so the analysis below answers with a 5xx.
			fake.SetDefault(func(fakeclaude.Request) fakeclaude.Response { return fakeclaude.Error(500) })
			bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"ok":false,"error_code":401,"description":"Unauthorized: %s"}`, r.URL.Path)
			}))
			t.Cleanup(bot.Close)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "receiver broken; signature was "+r.Header.Get("webhook-signature"), http.StatusInternalServerError)
			}))
			t.Cleanup(recv.Close)

			dbURL := testdb.URL(t, kind)
			secrets := map[string]string{"admin password": adminPW, "manager password": managerPW, "new password": newPW,
				"wrong password": wrongPW, "JWT key": jwtKey, "AI key": apiKey, "bot token": tgToken}
			if kind == "postgres" {
				// The test cluster trusts local connections, so a password
				// in the URL is sent but not needed: it must not be logged.
				u, err := url.Parse(dbURL)
				if err != nil {
					t.Fatal(err)
				}
				u.User = url.UserPassword(u.User.Username(), dbPW)
				dbURL = u.String()
				secrets["database password"] = dbPW
			}
			p := start(t, map[string]string{
				"DATABASE_URL": dbURL, "CRM_ADMIN_EMAIL": "boss@example.com", "CRM_ADMIN_PASSWORD": adminPW,
				"CRM_JWT_SECRET": jwtKey, "ANTHROPIC_API_KEY": apiKey, "ANTHROPIC_BASE_URL": fake.URL(),
				"CRM_LOG_LEVEL": "debug", "CRM_LOG_FORMAT": []string{"text", "json"}[i%2],
				"CRM_WEBHOOK_ALLOW_PRIVATE": "true", "CRM_TELEGRAM_API_URL": bot.URL, "CRM_WEBHOOK_SCHEDULE": "0s,1s",
			})

			// The API: sign-in right and wrong, tokens good and forged.
			anon := &client{t: t, base: p.base}
			if resp, _ := anon.do("POST", "/auth/login", map[string]string{"email": "boss@example.com", "password": wrongPW}); resp.StatusCode != 401 {
				t.Fatalf("wrong password: %d", resp.StatusCode)
			}
			admin := login(t, p.base, "boss@example.com", adminPW)
			secrets["admin token"] = admin.token
			forged := &client{t: t, base: p.base, token: admin.token[:len(admin.token)-4] + "AAAA"}
			if resp, _ := forged.do("GET", "/me", nil); resp.StatusCode != 401 {
				t.Fatalf("forged token: %d", resp.StatusCode)
			}
			admin.must(201, "POST", "/users", map[string]string{"email": "m@example.com", "role": "manager", "password": managerPW}, nil)
			m := login(t, p.base, "m@example.com", managerPW)
			secrets["manager token"] = m.token
			m.do("POST", "/me/password", map[string]string{"current_password": wrongPW, "new_password": newPW})
			m.must(204, "POST", "/me/password", map[string]string{"current_password": managerPW, "new_password": newPW}, nil)
			m = login(t, p.base, "m@example.com", newPW) // the change ended the old token
			secrets["manager's new token"] = m.token

			// A 5xx: the AI fails behind the key.
			var lead struct{ ID string }
			m.must(201, "POST", "/leads", map[string]any{"source": "partner"}, &lead)
			if resp, body := m.do("POST", "/leads/"+lead.ID+"/analyze", nil); resp.StatusCode < 500 {
				t.Fatalf("analyze with a failing AI: %d %s", resp.StatusCode, body)
			}

			// The pages: a wrong password, then a right one; the session cookie.
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := browser.Get(p.base + "/app/login")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			csrf := ""
			for _, c := range jar.Cookies(mustParse(t, p.base)) {
				if c.Name == "crm_csrf" {
					csrf = c.Value
				}
			}
			for _, pw := range []string{wrongPW, adminPW} {
				res, err := browser.PostForm(p.base+"/app/login", url.Values{"email": {"boss@example.com"}, "password": {pw}, "csrf": {csrf}})
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if want := map[bool]int{true: 303, false: 401}[pw == adminPW]; res.StatusCode != want {
					t.Fatalf("page sign-in with %s: %d, want %d", pw, res.StatusCode, want)
				}
			}
			for _, c := range jar.Cookies(mustParse(t, p.base)) {
				if c.Name == "crm_session" {
					secrets["session cookie"] = c.Value
				}
			}
			if secrets["session cookie"] == "" {
				t.Fatal("no session cookie after signing in on the page")
			}
			res, err = browser.Get(p.base + "/app/leads")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()

			// Webhooks: a signing secret, rotated, to a failing receiver; a
			// Telegram token the Bot API refuses.
			var hook struct{ ID, Secret string }
			admin.must(201, "POST", "/webhooks", map[string]any{"url": recv.URL + "/hook", "events": []string{"lead.lost"}}, &hook)
			secrets["webhook secret"] = hook.Secret
			var rotated struct{ Secret string }
			admin.must(200, "POST", "/webhooks/"+hook.ID+"/rotate-secret", nil, &rotated)
			secrets["rotated webhook secret"] = rotated.Secret
			var tg struct{ ID string }
			admin.must(201, "POST", "/webhooks", map[string]any{"kind": "telegram", "telegram_bot_token": tgToken,
				"telegram_chat_id": "-1001234567890", "events": []string{"lead.lost"}}, &tg)
			for _, id := range []string{hook.ID, tg.ID} {
				admin.must(202, "POST", "/webhooks/"+id+"/test", nil, nil)
			}
			deadline := time.Now().Add(30 * time.Second)
			for _, id := range []string{hook.ID, tg.ID} {
				for {
					var ds []struct {
						Attempts []json.RawMessage `json:"attempts"`
					}
					admin.must(200, "GET", "/webhooks/"+id+"/deliveries", nil, &ds)
					if len(ds) > 0 && len(ds[0].Attempts) > 1 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("webhook %s: no second delivery attempt within 30 s", id)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}

			p.cancel()
			if err := <-p.done; err != nil {
				t.Fatalf("run() after stop = %v", err)
			}
			p.done <- nil // for the cleanup
			out := p.log.String() + p.out.String()
			// Debug lines are written (by the job engine): the level is on.
			if !strings.Contains(out, "level=DEBUG") && !strings.Contains(out, `"level":"DEBUG"`) || !strings.Contains(out, "listening") {
				t.Fatalf("no debug lines, or no start-up line, in the output:\n%s", out)
			}
			for what, s := range secrets {
				for _, part := range secretParts(s) {
					if strings.Contains(out, part) {
						t.Errorf("the %s (%q) is in the program's output:\n%s", what, part, lineWith(out, part))
					}
				}
			}
		})
	}
}

// secretParts returns a secret and the parts of it that are secret alone: a
// JWT's signature, a webhook secret's key without its prefix.
func secretParts(s string) []string {
	out := []string{s}
	if parts := strings.Split(s, "."); len(parts) == 3 {
		out = append(out, parts[2])
	}
	if k, ok := strings.CutPrefix(s, "whsec_"); ok {
		out = append(out, k)
	}
	return out
}

func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
