package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Docker cannot run on the machine that builds this, so these tests keep
// docker-compose.yml, deploy/nginx.conf, the Dockerfile and .env.example
// honest against the code instead: every variable they set is one the program
// reads, the configuration they give loads, and the ports, health checks and
// the load balancer agree with each other.

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
		Expose      []string          `yaml:"expose"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Deploy      struct {
			Replicas int `yaml:"replicas"`
		} `yaml:"deploy"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Networks map[string]struct {
			IPv4 string `yaml:"ipv4_address"`
		} `yaml:"networks"`
	} `yaml:"services"`
	Networks map[string]struct {
		IPAM struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

// readByCode reports whether the program's own source (not its tests) names
// the variable, so a file that sets it sets something that is read.
func readByCode(t *testing.T) func(name string) bool {
	t.Helper()
	var src strings.Builder
	err := filepath.WalkDir("../..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && p != "../.." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			src.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := src.String()
	return func(name string) bool { return strings.Contains(all, `"`+name+`"`) }
}

func port(t *testing.T, addr string) string {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		t.Fatalf("address %q has no port", addr)
	}
	return addr[i+1:]
}

func TestComposeFileMatchesTheCode(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, s := range []string{"db", "app", "lb"} {
		if _, ok := cf.Services[s]; !ok {
			t.Fatalf("docker-compose.yml has no %s service", s)
		}
	}
	app, lb, db := cf.Services["app"], cf.Services["lb"], cf.Services["db"]
	if app.Deploy.Replicas != 3 {
		t.Errorf("app runs %d replicas, want 3", app.Deploy.Replicas)
	}
	known := readByCode(t)
	for name := range app.Environment {
		if !known(name) {
			t.Errorf("docker-compose.yml sets %s, which the program never reads", name)
		}
	}
	// The configuration it gives loads as the program would load it.
	env := app.Environment
	if _, err := loadConfig(func(k string) string { return env[k] }); err != nil {
		t.Errorf("the app's environment does not load: %v", err)
	}
	// Its database URL names the db service and the credentials db creates.
	want := "postgres://" + db.Environment["POSTGRES_USER"] + ":" + db.Environment["POSTGRES_PASSWORD"] + "@db:5432/" +
		db.Environment["POSTGRES_DB"]
	if !strings.HasPrefix(env["DATABASE_URL"], want) {
		t.Errorf("DATABASE_URL %q does not reach the db service (%s…)", env["DATABASE_URL"], want)
	}
	// Both listeners are exposed; no replica publishes a host port (three could not share it).
	for _, v := range []string{"CRM_ADDR", "CRM_METRICS_ADDR"} {
		if !slices.Contains(app.Expose, port(t, env[v])) {
			t.Errorf("app does not expose the port of %s (%s)", v, env[v])
		}
	}
	if len(app.Ports) != 0 {
		t.Errorf("app publishes host ports %v: with replicas only the load balancer may", app.Ports)
	}
	if got := strings.Join(app.Healthcheck.Test, " "); got != "CMD /crmleads healthcheck" {
		t.Errorf("app healthcheck %q, want the binary's own healthcheck command", got)
	}
	// The load balancer: its config file exists and points at the app's port; it
	// is the one proxy whose X-Forwarded-For the app trusts.
	if !strings.HasPrefix(lb.Image, "nginx:") {
		t.Errorf("lb image %q, want the official nginx image", lb.Image)
	}
	if len(lb.Ports) != 1 || port(t, lb.Ports[0]) != port(t, env["CRM_ADDR"]) {
		t.Errorf("lb publishes %v, want the app's port %s", lb.Ports, port(t, env["CRM_ADDR"]))
	}
	var conf string
	for _, v := range lb.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		if strings.HasPrefix(dst, "/etc/nginx/nginx.conf") {
			c, err := os.ReadFile(filepath.Join("../..", src))
			if err != nil {
				t.Fatalf("lb config: %v", err)
			}
			conf = string(c)
		}
	}
	if !regexp.MustCompile(`server app:` + port(t, env["CRM_ADDR"]) + `\b`).MatchString(conf) {
		t.Errorf("deploy/nginx.conf does not proxy to app:%s", port(t, env["CRM_ADDR"]))
	}
	if !strings.Contains(conf, "X-Forwarded-For") {
		t.Errorf("deploy/nginx.conf does not pass X-Forwarded-For")
	}
	lbIP, err := netip.ParseAddr(lb.Networks["default"].IPv4)
	if err != nil {
		t.Fatalf("lb has no fixed address: %v", err)
	}
	if env["CRM_TRUSTED_PROXIES"] != lbIP.String() {
		t.Errorf("CRM_TRUSTED_PROXIES %q, want the lb's address %s", env["CRM_TRUSTED_PROXIES"], lbIP)
	}
	subnets := cf.Networks["default"].IPAM.Config
	if len(subnets) != 1 || !netip.MustParsePrefix(subnets[0].Subnet).Contains(lbIP) {
		t.Errorf("lb address %s is not in the network's subnet %v", lbIP, subnets)
	}
}

func TestDockerfileAndEnvExampleMatchTheCode(t *testing.T) {
	known := readByCode(t)
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	env := map[string]string{}
	for _, line := range strings.Split(df, "\n") {
		if rest, ok := strings.CutPrefix(line, "ENV "); ok {
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
				if !known(k) {
					t.Errorf("Dockerfile sets %s, which the program never reads", k)
				}
			}
		}
	}
	if _, err := loadConfig(func(k string) string { return env[k] }); err != nil {
		t.Errorf("the Dockerfile's environment does not load: %v", err)
	}
	if !strings.Contains(df, "EXPOSE "+port(t, env["CRM_ADDR"])) {
		t.Errorf("Dockerfile does not EXPOSE the port of CRM_ADDR (%s)", env["CRM_ADDR"])
	}
	if !strings.Contains(df, `ENTRYPOINT ["/crmleads"]`) || !strings.Contains(df, `CMD ["serve"]`) {
		t.Errorf("Dockerfile does not run /crmleads serve")
	}
	if !strings.Contains(df, "go build") || !strings.Contains(df, "./cmd/crmleads") {
		t.Errorf("Dockerfile does not build ./cmd/crmleads")
	}

	b, err = os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		k, _, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		if !known(k) {
			t.Errorf(".env.example names %s, which the program never reads", k)
		}
	}
}
