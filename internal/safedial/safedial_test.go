package safedial

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestPrivate(t *testing.T) {
	for addr, private := range map[string]bool{
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700::1111": false, "93.184.216.34": false,
		"127.0.0.1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "0.1.2.3": true, "0.255.255.255": true, "192.0.0.8": true,
		"198.18.0.1": true, "240.0.0.1": true, "255.255.255.255": true, "224.0.0.1": true,
		"::1": true, "::": true, "fc00::1": true, "fe80::1": true, "::ffff:127.0.0.1": true, "::ffff:0.1.2.3": true,
		"64:ff9b::7f00:1": true, "64:ff9b::808:808": false, "2002:7f00:1::": true, "2002:808:808::": false,
	} {
		if got := Private(net.ParseIP(addr)); got != private {
			t.Errorf("Private(%s) = %v", addr, got)
		}
	}
}

// The dialer refuses at connect time, whatever the spelling of the host.
func TestDialerRefusesThisNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	d := Dialer(false, "fetch", time.Second)
	for _, host := range []string{"127.0.0.1", "0.0.0.0", "0.0.0.1", "[::ffff:127.0.0.1]"} {
		if c, err := d.Dial("tcp", host+":"+port); err == nil || !strings.Contains(err.Error(), "private address") {
			if c != nil {
				c.Close()
			}
			t.Errorf("%s was dialled: %v", host, err)
		}
	}
	c, err := Dialer(true, "fetch", time.Second).Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatalf("allowed private dial: %v", err)
	}
	c.Close()
}
