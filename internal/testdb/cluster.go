package testdb

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server of the test's own, which the test may stop
// and start at will. The shared server of CRM_TEST_DATABASE_URL must never be
// restarted (other tests use it), so a test of an outage starts one of these.
type Cluster struct {
	t    testing.TB
	bin  string // the directory holding initdb, pg_ctl, postgres
	dir  string // the data directory
	port int
	// asPostgres: the tools run as the user postgres (through runuser), since
	// PostgreSQL refuses to run as root.
	asPostgres bool
}

// NewCluster initializes and starts a private PostgreSQL cluster on a free
// loopback port (TCP only, fsync on), stopped and removed when the test ends.
// Without PostgreSQL's server binaries it skips, except under CI=true, where
// it fails: .ci/run installs them.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := serverBin()
	if bin == "" {
		msg := "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: apt-get install -y postgresql"
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; under CI=true this test must run, not skip", msg)
		}
		t.Skip(msg)
	}
	root, err := os.MkdirTemp("", "crm-pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	c := &Cluster{t: t, bin: bin, dir: filepath.Join(root, "data"), asPostgres: os.Geteuid() == 0}
	if c.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the user postgres: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	// --no-sync only for initdb's own files, to keep the start short; the
	// server runs with fsync on, so what it acknowledges is on disk.
	if out, err := c.tool("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.Start()
	t.Cleanup(func() {
		_, _ = c.tool("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop").CombinedOutput()
	})
	return c
}

// serverBin returns the newest /usr/lib/postgresql/*/bin holding initdb and
// pg_ctl (Debian's layout), else the directory of initdb on PATH, else "".
func serverBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil && isFile(filepath.Join(filepath.Dir(p), "pg_ctl")) {
		return filepath.Dir(p)
	}
	return ""
}

func version(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return n
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

func (c *Cluster) tool(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.asPostgres {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// URL returns the address of the cluster's database postgres.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1", "-p " + strconv.Itoa(c.port),
		"-c unix_socket_directories=", // TCP only: no socket file to clash or clean up
		"-c fsync=on", "-c synchronous_commit=on", "-c max_connections=100",
	}, " ")
	out, err := c.tool("pg_ctl", "-D", c.dir, "-l", filepath.Join(filepath.Dir(c.dir), "server.log"),
		"-o", opts, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		c.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, c.Log())
	}
	// -w waits for the server to accept connections; a connection proves it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.URL())
		if err == nil {
			conn.Close(ctx)
			return
		}
		if ctx.Err() != nil {
			c.t.Fatalf("the private cluster does not answer: %v\n%s", err, c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server in PostgreSQL's fast mode: it ends every session,
// rolling back open transactions, and shuts down cleanly.
func (c *Cluster) Stop() {
	c.t.Helper()
	if out, err := c.tool("pg_ctl", "-D", c.dir, "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput(); err != nil {
		c.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// Log returns the server's log (for a failing test's message).
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(filepath.Dir(c.dir), "server.log"))
	return string(b)
}
