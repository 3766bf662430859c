package request

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr returns the address the sign-in and rate limits count a request
// under. It is the peer's address unless the peer is one of the trusted
// proxies (CRM_TRUSTED_PROXIES): then X-Forwarded-For is read from the right,
// skipping trusted hops, and the first address not trusted is the client. A
// client cannot forge its way out, since only what a trusted proxy appended
// is believed; with no trusted proxy X-Forwarded-For is ignored.
//
// An IPv6 address is counted by its /64: one host usually holds a whole /64,
// so counting single addresses would let it rotate past every limit.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	addr := peer
	if isTrusted(peer, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a := parseAddr(strings.TrimSpace(hops[i]))
			if !a.IsValid() {
				break // a garbled hop: trust nothing before it
			}
			addr = a
			if !isTrusted(a, trusted) {
				break
			}
		}
	}
	return key(addr)
}

// ForwardedHTTPS reports whether the peer is a trusted proxy that says the
// client connected to it over HTTPS (X-Forwarded-Proto: https, the nearest
// proxy's value being the last). From anybody else the header is ignored: a
// client could otherwise claim HTTPS over plain HTTP.
func ForwardedHTTPS(r *http.Request, trusted []netip.Prefix) bool {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return false
	}
	protos := strings.Split(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","), ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "ip", "ip:port" or "[ip]:port", IPv4-mapped IPv6 as IPv4.
func parseAddr(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func key(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// ParseProxies reads a comma-separated list of addresses and CIDR prefixes
// (CRM_TRUSTED_PROXIES).
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
