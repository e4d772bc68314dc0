// Package testport picks loopback ports for tests that start servers on
// fixed addresses (to restart them on the same one).
package testport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
)

// Free returns a loopback TCP port nobody listens on, below the kernel's
// ephemeral range (32768 onwards on Linux): a port taken from that range
// with ":0" may be handed to another process's outgoing connection before
// the server listens on it, or while a stopped server is down.
func Free(tb testing.TB) int {
	tb.Helper()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	tb.Fatal("testport: no free port between 20000 and 32000")
	return 0
}

// Addr is Free as a host:port.
func Addr(tb testing.TB) string {
	tb.Helper()
	return fmt.Sprintf("127.0.0.1:%d", Free(tb))
}
