package catalog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgepix/edgepix/internal/natsembed/natstest"
)

// A store whose server is down fails with ErrUnavailable (not "not
// found"), and works again once the server is back.
func TestUnavailable(t *testing.T) {
	srv := natstest.Start(t)
	c := open(t, connect(t, srv.URL()), Options{})
	a := &Asset{Cloud: "demo", ResourceType: "image", Type: "upload", PublicID: "x", Tags: []string{"t"}}
	if err := c.Assets.Put(bg, a); err != nil {
		t.Fatal(err)
	}
	srv.Stop(0)
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(bg, 500*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if _, err := c.Assets.Get(short(), "demo", "image", "upload", "x"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("get while down: %v", err)
	}
	if _, err := c.Assets.Get(short(), "demo", "image", "upload", "missing"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("get of a missing asset while down: %v", err)
	}
	if err := c.Assets.Put(short(), a); !errors.Is(err, ErrUnavailable) {
		t.Errorf("put while down: %v", err)
	}
	if _, err := c.Assets.List(short(), "demo", "image", "", "", "", 10); !errors.Is(err, ErrUnavailable) {
		t.Errorf("list while down: %v", err)
	}
	if _, err := c.Batches.Unfinished(short()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("batches while down: %v", err)
	}
	if _, _, err := c.Uploads.Claim(short(), "demo", "u", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("claim while down: %v", err)
	}
	srv.Restart(0)
	srv.WaitReady()
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err = c.Assets.Get(short(), "demo", "image", "upload", "x"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("after the server came back: %v", err)
	}
	if _, err := c.Assets.Get(bg, "demo", "image", "upload", "missing"); !errors.Is(err, ErrAssetNotFound) {
		t.Fatalf("missing asset: %v", err)
	}
}
