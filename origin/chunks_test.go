package origin

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgepix/edgepix/blob"
)

// Sweeping removes chunks of uploads abandoned for a day and keeps the rest.
func TestSweepAbandonedChunks(t *testing.T) {
	root := t.TempDir()
	blobs, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, []Account{testAccount}, Deps{Blobs: blobs}, slog.New(slog.DiscardHandler))
	blob.PutBytes(bg, blobs, "chunks/demo/old/00000000000000000000-00000000000000000009", []byte("0123456789"))
	blob.PutBytes(bg, blobs, "chunks/demo/new/00000000000000000000-00000000000000000009", []byte("0123456789"))
	past := time.Now().Add(-2 * chunkTTL)
	os.Chtimes(filepath.Join(root, "chunks/demo/old/00000000000000000000-00000000000000000009"), past, past)
	s.sweepChunks(bg)
	if keys, _ := blob.Keys(bg, blobs, "chunks/demo/old"); len(keys) != 0 {
		t.Error("an abandoned upload's chunks were kept")
	}
	if keys, _ := blob.Keys(bg, blobs, "chunks/demo/new"); len(keys) != 1 {
		t.Error("a recent upload's chunks were swept")
	}
}

// chunkServer is an origin over fresh stores with 1 MiB uploads.
func chunkServer(t *testing.T) (*Server, blob.Store) {
	e := newTestEnv(t, Config{MaxUploadBytes: 1 << 20})
	return e.Server, e.blobs
}

// Overlapping chunks of one upload id, each within the limit, cannot pile
// up beyond MaxUploadBytes; a retried chunk replaces itself.
func TestChunksHeldBytes(t *testing.T) {
	s, blobs := chunkServer(t)
	part := make([]byte, 600<<10)
	add := func(start int64) error {
		_, err := s.addChunk(bg, "demo", chunk{id: "up", start: start, end: start + int64(len(part)) - 1, total: -1}, part)
		return err
	}
	if err := add(0); err != nil {
		t.Fatal(err)
	}
	if err := add(0); err != nil {
		t.Fatalf("a retried chunk was refused: %v", err)
	}
	var refused error
	for i := int64(1); i < 64 && refused == nil; i++ {
		refused = add(i)
	}
	if statusOf(refused, 0) != 400 || !strings.Contains(refused.Error(), "File size too large") {
		t.Fatalf("overlapping chunks: %v", refused)
	}
	var held int
	keys, _ := blob.Keys(bg, blobs, "chunks/demo/up")
	for _, k := range keys {
		b, _ := blob.GetBytes(bg, blobs, k, 1<<20)
		held += len(b)
	}
	if held > 1<<20 {
		t.Errorf("one upload id holds %d bytes with a 1 MiB limit", held)
	}
}

// An account keeps at most MaxOpenChunkedUploads unfinished; finishing
// one makes room, and other accounts are not affected.
func TestOpenChunkedUploads(t *testing.T) {
	s, _ := chunkServer(t)
	s.accounts["other"] = Account{Cloud: "other"}
	first := func(cloud, id string, total int64) error {
		_, err := s.addChunk(bg, cloud, chunk{id: id, start: 0, end: 9, total: total}, make([]byte, 10))
		return err
	}
	for i := range s.cfg.MaxOpenChunkedUploads {
		if err := first("demo", fmt.Sprint("u", i), 20); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	if err := first("demo", "one-more", 20); statusOf(err, 0) != 429 {
		t.Fatalf("upload %d: %v, want 429", s.cfg.MaxOpenChunkedUploads+1, err)
	}
	if err := first("other", "u0", 20); err != nil {
		t.Fatalf("another account: %v", err)
	}
	c := chunk{id: "u0", start: 10, end: 19, total: 20}
	covered, err := s.addChunk(bg, "demo", c, make([]byte, 10))
	if err != nil || !covered {
		t.Fatalf("finishing u0: covered %v, %v", covered, err)
	}
	if whole, err := s.assemble(bg, "demo", c); err != nil || len(whole) != 20 {
		t.Fatalf("assembling u0: %d bytes, %v", len(whole), err)
	}
	s.forgetChunks("demo", "u0")
	if err := first("demo", "one-more", 20); err != nil {
		t.Fatalf("after one finished: %v", err)
	}
	// Another origin assembles u1 (its chunks leave the store): it no
	// longer counts here either.
	if err := first("demo", "yet-another", 20); statusOf(err, 0) != 429 {
		t.Fatalf("over the limit again: %v", err)
	}
	if err := s.blobs.DeletePrefix(bg, chunkDir("demo", "u1")); err != nil {
		t.Fatal(err)
	}
	if err := first("demo", "yet-another", 20); err != nil {
		t.Fatalf("after another origin finished one: %v", err)
	}
}

// The gate queues uploads beyond its limits, then refuses them: 429 when
// a client of an account has too many, 503 when the origin has.
func TestUploadGate(t *testing.T) {
	g := newUploadGate(UploadLimits{MaxUploads: 2, MaxUploadsPerAccount: 1, UploadWait: 50 * time.Millisecond}.withDefaults())
	relA, err := g.enter("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter("a"); err == nil || err.Status != 429 {
		t.Fatalf("second upload for a: %v", err)
	}
	relB, err := g.enter("b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter("c"); err == nil || err.Status != 503 {
		t.Fatalf("third upload: %v", err)
	}
	done := make(chan *limitError)
	go func() { // queued, admitted when a slot frees
		_, err := g.enter("c")
		done <- err
	}()
	relA()
	if err := <-done; err != nil {
		t.Fatalf("queued upload: %v", err)
	}
	relB()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.clients) != 1 { // only c's, still held
		t.Errorf("client entries left behind: %d", len(g.clients))
	}
}
