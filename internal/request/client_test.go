package request

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := ParseProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"peer", "203.0.113.9:5555", nil, trusted, "203.0.113.9"},
		{"forged header from an untrusted peer is ignored", "203.0.113.9:5555", []string{"1.2.3.4"}, trusted, "203.0.113.9"},
		{"no trusted proxy configured", "10.1.1.1:80", []string{"1.2.3.4"}, nil, "10.1.1.1"},
		{"trusted proxy forwards", "10.1.1.1:80", []string{"198.51.100.4"}, trusted, "198.51.100.4"},
		{"client prepends a forgery, proxy appends the truth", "10.1.1.1:80", []string{"1.2.3.4, 198.51.100.4"}, trusted, "198.51.100.4"},
		{"two trusted hops", "10.1.1.1:80", []string{"198.51.100.4, 192.0.2.1"}, trusted, "198.51.100.4"},
		{"several header lines", "10.1.1.1:80", []string{"1.2.3.4", "198.51.100.4"}, trusted, "198.51.100.4"},
		{"garbled hop stops the walk", "10.1.1.1:80", []string{"198.51.100.4, garbage"}, trusted, "10.1.1.1"},
		{"only trusted hops", "10.1.1.1:80", []string{"10.2.2.2"}, trusted, "10.2.2.2"},
		{"IPv6 by its /64", "[2001:db8:1:2:3:4:5:6]:443", nil, trusted, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:203.0.113.9]:1", nil, trusted, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientAddr(r, tc.trusted); got != tc.want {
				t.Errorf("ClientAddr = %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ParseProxies("10.0.0.0/8,nonsense"); err == nil {
		t.Error("ParseProxies accepted nonsense")
	}
}

func TestForwardedHTTPS(t *testing.T) {
	trusted, err := ParseProxies("10.0.0.1, 192.168.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer   string
		protos []string
		want   bool
	}{
		{"10.0.0.1:5000", []string{"https"}, true},
		{"192.168.3.4:5000", []string{"HTTPS"}, true},
		{"10.0.0.1:5000", []string{"http"}, false},
		{"10.0.0.1:5000", nil, false},
		{"10.0.0.1:5000", []string{"https, http"}, false}, // the nearest proxy said http
		{"10.0.0.1:5000", []string{"http", "https"}, true},
		{"203.0.113.9:5000", []string{"https"}, false}, // not a trusted proxy: a claim, ignored
		{"garbage", []string{"https"}, false},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		for _, p := range c.protos {
			r.Header.Add("X-Forwarded-Proto", p)
		}
		if got := ForwardedHTTPS(r, trusted); got != c.want {
			t.Errorf("peer %s X-Forwarded-Proto %q: %v, want %v", c.peer, c.protos, got, c.want)
		}
	}
}
