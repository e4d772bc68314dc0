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

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Private reports addresses a server-side request must not reach by
// default.
func Private(ip net.IP) bool {
	if a, ok := netip.AddrFromSlice(ip); ok && cgnat.Contains(a.Unmap()) {
		return true
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
