package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/crmleads/crm"
	"github.com/crmleads/crm/auth"
	"github.com/crmleads/crm/web"
)

// server is the service under test, listening on a loopback TCP port.
type server struct {
	url  string
	pid  int // whose resident memory is sampled
	stop func() error
}

// startInProcess serves web.NewServer, wired as cmd/crmleads wires it, from a
// real net/http.Server in this process. The access log is formatted as in
// production (text, info level) but written to io.Discard.
func startInProcess(ctx context.Context, svc *crm.Services, st crm.Store) (*server, error) {
	key, err := auth.SigningKey(ctx, st, "")
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := &http.Server{
		Handler: web.NewServer(web.Deps{Services: svc, Tokens: auth.NewTokens(key, time.Hour), Logger: log,
			Version: "crmbench"}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	return &server{url: "http://" + ln.Addr().String(), pid: os.Getpid(), stop: func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}}, nil
}

// startExec builds cmd/crmleads and runs it as a child process on
// databaseURL (already migrated, with its admin), so that its resident memory
// is the server's alone.
func startExec(ctx context.Context, databaseURL, workDir string, rateLimit int) (*server, error) {
	bin := filepath.Join(workDir, "crmleads")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/crmleads/crm/cmd/crmleads")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build cmd/crmleads: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Dir = workDir // no stray .env
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "CRM_ADDR="+addr, "CRM_AI_PROVIDER=baseline",
		fmt.Sprintf("CRM_RATE_LIMIT=%d", rateLimit), "CRM_AI_DAILY_QUOTA=0", // a benchmark is one client hammering on purpose
		"CRM_LOG_LEVEL=info", "CRM_LOG_FORMAT=text")
	logf, err := os.Create(filepath.Join(workDir, "crmleads.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	s := &server{url: "http://" + addr, pid: cmd.Process.Pid, stop: func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			return nil
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("cmd/crmleads did not stop in 15s; killed")
		}
	}}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-done:
			return nil, fmt.Errorf("cmd/crmleads exited: %v (log: %s)", err, filepath.Join(workDir, "crmleads.log"))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stop()
			return nil, errors.New("cmd/crmleads not ready after 60s")
		}
	}
}

// client is a plain HTTP client with keep-alive and one idle connection per
// concurrent worker (and then some), as a load balancer or SDK would use.
type client struct {
	base  string
	token string
	hc    *http.Client
}

func newClient(base string, clients int) *client {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        2 * clients,
		MaxIdleConnsPerHost: 2 * clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends a request and drains the answer; a status other than want is an
// error. When out is not nil the JSON body is decoded into it.
func (c *client) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

func (c *client) login(ctx context.Context, email, password string) error {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(ctx, "POST", "/auth/login", body, http.StatusOK, &out); err != nil {
		return err
	}
	if out.AccessToken == "" {
		return errors.New("login: no access_token")
	}
	c.token = out.AccessToken
	return nil
}

// rssSampler reads VmRSS of a process every 50ms while it is on and keeps the
// largest value seen.
type rssSampler struct {
	pid  int
	on   atomic.Bool
	max  atomic.Int64 // bytes
	stop chan struct{}
	wg   sync.WaitGroup
}

func newRSSSampler(pid int) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{})}
	s.wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			if !s.on.Load() {
				continue
			}
			if v, err := readRSS(s.pid); err == nil && v > s.max.Load() {
				s.max.Store(v)
			}
		}
	})
	return s
}

func (s *rssSampler) close() {
	close(s.stop)
	s.wg.Wait()
}

// readRSS returns the VmRSS of a process, in bytes.
func readRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}
