package origin

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/edgepix/edgepix/catalog"
	"github.com/edgepix/edgepix/internal/fixtures"
	"github.com/edgepix/edgepix/transform/grammar"
)

// A render whose second admission (for what its probe says it holds)
// times out gets an error and a release that may still be called: the
// render's deferred release must not panic.
func TestReadmitRefusedKeepsARelease(t *testing.T) {
	s := New(Config{Workers: 2, QueueWait: 20 * time.Millisecond, RenderPixels: 1 << 30}, []Account{testAccount},
		Deps{}, slog.New(slog.DiscardHandler))
	src := fixtures.Read(t, "photo-storm-1920x1280.jpg")
	a := &catalog.Asset{Bytes: len(src)}
	chain, err := grammar.ParseChain("e_blur:300")
	if err != nil {
		t.Fatal(err)
	}
	release, err := s.admitWork(bg, fileCost(a))
	if err != nil {
		t.Fatal(err)
	}
	hold, err := s.admit.acquire(bg, "other", 1<<30-fileCost(a)) // the rest of the budget is taken meanwhile
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	ctx, cancel := context.WithTimeout(bg, time.Second)
	defer cancel()
	release, err = s.readmit(ctx, release, a, src, chain, "jpg")
	if err == nil {
		t.Fatal("the second admission was granted with the budget taken")
	}
	release() // as deriveAsset's deferred call does
}
