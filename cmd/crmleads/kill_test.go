package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmleads/crm/internal/testdb"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds crmleads once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "crmleads-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "crmleads")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = err
			binPath = string(out)
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v\n%s", binErr, binPath)
	}
	return binPath
}

// process is the built binary running with an environment.
type process struct {
	cmd  *exec.Cmd
	base string
	log  *syncBuffer
}

func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(binary(t))
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CRM_ADDR=" + addr}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, base: "http://" + addr, log: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /readyz within 60 s; log:\n%s", p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// A process killed with kill -9 in the middle of a delivery: the same
// process restarted delivers it, with the same webhook-id, and the delivery
// ends succeeded. The receiver checks the signature with its own HMAC.
func TestKill9DuringDelivery(t *testing.T) {
	t.Parallel()
	for _, kind := range testdb.Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var (
				mu       sync.Mutex
				ids      []string
				verified []bool
				secret   string
				stall    = make(chan struct{})
				seen     = make(chan struct{}, 10)
			)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
				mu.Lock()
				key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
				mac := hmac.New(sha256.New, key)
				mac.Write([]byte(id + "." + ts + "." + string(body)))
				want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
				ok := false
				for _, s := range strings.Fields(r.Header.Get("webhook-signature")) {
					ok = ok || hmac.Equal([]byte(s), []byte(want))
				}
				ids, verified = append(ids, id), append(verified, ok)
				first := len(ids) == 1
				mu.Unlock()
				seen <- struct{}{}
				if first { // the first attempt never gets an answer: its process dies
					select {
					case <-stall:
					case <-r.Context().Done():
					}
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(recv.Close)
			t.Cleanup(func() { close(stall) })

			env := map[string]string{
				"DATABASE_URL":              testdb.URL(t, kind),
				"CRM_ADMIN_EMAIL":           "boss@example.com",
				"CRM_ADMIN_PASSWORD":        "a long admin password",
				"CRM_BCRYPT_COST":           "4",
				"CRM_WEBHOOK_ALLOW_PRIVATE": "true",
				// Shorter than the defaults (30 s, 60 s) to keep the test short;
				// the rescue still waits for River's rescuer, every 30 s.
				"CRM_JOB_TIMEOUT":      "20s",
				"CRM_JOB_RESCUE_AFTER": "25s",
			}
			p := startProcess(t, env)
			var login struct {
				AccessToken string `json:"access_token"`
			}
			if st := p.call(t, "POST", "/auth/login", "", map[string]any{"email": "boss@example.com", "password": "a long admin password"}, &login); st != 200 {
				t.Fatalf("login: %d", st)
			}
			tok := login.AccessToken
			var hook struct {
				ID     string `json:"id"`
				Secret string `json:"secret"`
			}
			if st := p.call(t, "POST", "/webhooks", tok, map[string]any{"url": recv.URL + "/hook", "events": []string{"lead.lost"}}, &hook); st != 201 {
				t.Fatalf("POST /webhooks: %d", st)
			}
			mu.Lock()
			secret = hook.Secret
			mu.Unlock()
			var delivery struct {
				ID      string `json:"id"`
				EventID string `json:"event_id"`
			}
			if st := p.call(t, "POST", "/webhooks/"+hook.ID+"/test", tok, nil, &delivery); st != 202 {
				t.Fatalf("POST /webhooks/{id}/test: %d", st)
			}
			select {
			case <-seen:
			case <-time.After(60 * time.Second):
				t.Fatalf("the first attempt never came; log:\n%s", p.log.String())
			}
			// kill -9 while the receiver holds the attempt.
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = p.cmd.Wait()
			restarted := time.Now()
			q := startProcess(t, env)
			select {
			case <-seen:
			case <-time.After(150 * time.Second):
				t.Fatalf("no retry within 150 s of the restart; log:\n%s", q.log.String())
			}
			t.Logf("%s: retried %.1f s after the restart", kind, time.Since(restarted).Seconds())
			mu.Lock()
			gotIDs, gotOK := append([]string(nil), ids...), append([]bool(nil), verified...)
			mu.Unlock()
			if len(gotIDs) < 2 || gotIDs[1] != gotIDs[0] || gotIDs[0] != delivery.EventID || !gotOK[1] {
				t.Fatalf("ids %v verified %v: want the retry with webhook-id %s, signed", gotIDs, gotOK, delivery.EventID)
			}
			var ds []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				if st := q.call(t, "GET", "/webhooks/"+hook.ID+"/deliveries", tok, nil, &ds); st != 200 {
					t.Fatalf("GET deliveries: %d", st)
				}
				if len(ds) == 1 && ds[0].Status == "succeeded" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("deliveries %+v: want the one succeeded", ds)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
