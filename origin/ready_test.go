package origin

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/blob"
)

// Ready names the store that does not answer.
func TestReady(t *testing.T) {
	e := newTestEnv(t, Config{})
	if err := e.Ready(bg); err != nil {
		t.Fatal(err)
	}
	dir := e.blobs.(*blob.Dir).String()
	os.RemoveAll(strings.TrimPrefix(dir, "file://"))
	if err := e.Ready(bg); err == nil || !strings.HasPrefix(err.Error(), "blob store") {
		t.Errorf("blob store removed: %v", err)
	}
	e.nats.Close()
	ctx, cancel := context.WithTimeout(bg, 2*time.Second)
	defer cancel()
	if err := e.Ready(ctx); err == nil || !strings.HasPrefix(err.Error(), "catalog") {
		t.Errorf("NATS closed: %v", err)
	}
}
