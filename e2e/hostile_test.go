package e2e

import (
	"testing"
	"time"

	"github.com/edgepix/edgepix/bench"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// TestHostileTraffic runs the real binary while slowloris connections,
// anonymous 100 MB bodies, heavy renders from another client and
// decompression bombs (by fetch and by upload) go on beside ordinary
// clients: the process stays up and within its memory bound, and cached
// deliveries, new renders and signed uploads keep succeeding. Success
// rates and latencies are reported here and measured in bench/ (no timing
// is asserted).
func TestHostileTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary under attack for 20 s")
	}
	dir := fixtures.Dir()
	if dir == "" {
		t.Skip("../shared/fixtures is absent")
	}
	bin, err := bench.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := bench.StartBinary(bin, "--allow-private-fetch")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	rep, err := bench.RunHostile(srv.Hostile(dir, 20*time.Second, true))
	if err != nil {
		t.Fatal(err)
	}
	for kind, n := range rep.Attacks {
		t.Logf("attack: %s: %d", kind, n)
	}
	for _, o := range rep.Ordinary {
		t.Logf("%s: %d/%d ok (%.0f%%), p50 %v, p99 %v", o.Name, o.OK, o.Total, 100*o.Rate(), o.P50, o.P99)
		if o.OK == 0 || o.Rate() < 0.9 {
			t.Errorf("%s: %d of %d succeeded under attack", o.Name, o.OK, o.Total)
		}
	}
	t.Logf("peak RSS %d MiB", rep.PeakRSS>>20)
	if !srv.Alive() {
		t.Fatal("the server died under attack")
	}
	if rep.PeakRSS > 1<<30+512<<20 {
		t.Errorf("peak RSS %d MiB under attack", rep.PeakRSS>>20)
	}
	if len(rep.Attacks) < 4 {
		t.Errorf("not every attack ran: %v", rep.Attacks)
	}
}
