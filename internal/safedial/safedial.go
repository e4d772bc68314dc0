// Package safedial refuses outgoing connections to loopback, private,
// link-local (cloud metadata), CGNAT, multicast and unspecified addresses.
// The check runs on the resolved IP at dial time, for every redirect hop,
// so DNS names, rebinding and odd IP spellings cannot get around it.
package safedial

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// special are ranges beyond the net.IP predicates that no public service
// lives in: "this network" (Linux connects 0.x.y.z to the host itself),
// CGNAT, IETF assignments, benchmarking, reserved and broadcast.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"), // includes 255.255.255.255
}

// embedsV4 are IPv6 ranges that carry an IPv4 address a gateway may
// translate to (NAT64, 6to4): that address is checked too.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Private reports addresses a server-side request must not reach by
// default.
func Private(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return true
	}
	a = a.Unmap()
	switch {
	case nat64.Contains(a):
		b := a.As16()
		return Private(net.IP(b[12:16]))
	case sixTo4.Contains(a):
		b := a.As16()
		return Private(net.IP(b[2:6]))
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast()
}

// Dialer returns a dialer that refuses private addresses unless
// allowPrivate; what names the refusal in its error (e.g. "fetch").
func Dialer(allowPrivate bool, what string, timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, _ := net.SplitHostPort(address)
			if ip := net.ParseIP(host); ip == nil || Private(ip) {
				return fmt.Errorf("refusing to %s from private address %s", what, host)
			}
			return nil
		}
	}
	return d
}
