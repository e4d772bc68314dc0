package origin

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edgepix/edgepix/blob"
)

// Sweep removes chunks of uploads abandoned for a day and keeps the rest.
func TestSweepAbandonedChunks(t *testing.T) {
	root := t.TempDir()
	blobs, err := blob.NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, []Account{{Cloud: "demo", APIKey: "k", APISecret: "s"}}, Deps{Blobs: blobs},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	blobs.Put("chunks/demo/old/00000000000000000000-00000000000000000009", []byte("0123456789"))
	blobs.Put("chunks/demo/new/00000000000000000000-00000000000000000009", []byte("0123456789"))
	past := time.Now().Add(-2 * chunkTTL)
	os.Chtimes(filepath.Join(root, "chunks/demo/old/00000000000000000000-00000000000000000009"), past, past)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one pass, then Sweep returns
	s.Sweep(ctx)
	if keys, _ := blobs.List("chunks/demo/old"); len(keys) != 0 {
		t.Error("an abandoned upload's chunks were kept")
	}
	if keys, _ := blobs.List("chunks/demo/new"); len(keys) != 1 {
		t.Error("a recent upload's chunks were swept")
	}
}
