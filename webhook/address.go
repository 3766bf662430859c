package webhook

import (
	"errors"
	"net/netip"
	"syscall"
)

// nonPublic lists the ranges a target may not reach beyond what netip's
// predicates (loopback, private, link-local, multicast, unspecified) cover.
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT
		"169.254.0.0/16",  // link-local, with the cloud metadata address
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1)
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/96",           // IPv4-compatible (deprecated) and ::, ::1
		"64:ff9b::/96",    // NAT64: an IPv4 address in disguise
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard-only
		"2001:db8::/32",   // documentation
		"3fff::/20",       // documentation (2024)
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"fec0::/10",       // site-local (deprecated)
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// Public reports whether ip is an address a webhook may be sent to: not
// loopback, private, carrier-grade NAT, link-local, unique-local, multicast,
// reserved or documentation — in IPv4, IPv6, or an IPv4 address written as
// IPv6 (mapped ::ffff:a.b.c.d, 6to4 2002:a.b.c.d::).
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	if ip.Is6() {
		b := ip.As16()
		if b[0] == 0x20 && b[1] == 0x02 { // 6to4 carries an IPv4 address in bytes 2..5
			return Public(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return true
}

// errNonPublic is the dial refusal; its text is safe to log and to show.
var errNonPublic = errors.New("refused to connect to a non-public address")

// control is the dialer's Control hook: it runs after the name is resolved,
// on the very address being connected to, so a host name that resolved to a
// public address at create time and to an inner one now (DNS rebinding) is
// refused all the same.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return errNonPublic
	}
	if !Public(ap.Addr()) {
		return errNonPublic
	}
	return nil
}
