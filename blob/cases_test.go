package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// cases is the conformance suite; each case gets a fresh, empty store.
var cases = []struct {
	name string
	run  func(t *testing.T, b backend, s Store)
}{
	{"roundtrip small", testSmall},
	{"roundtrip large streamed", testLarge},
	{"overwrite and copy", testOverwrite},
	{"missing key", testMissing},
	{"stat", testStat},
	{"delete", testDelete},
	{"delete prefix", testDeletePrefix},
	{"list many keys", testListMany},
	{"list order", testListOrder},
	{"delete stale", testDeleteStale},
	{"concurrent puts of one key", testConcurrentPuts},
	{"spaces and unicode", testUnicode},
	{"invalid keys refused", testInvalidKeys},
	{"size mismatch stores nothing", testSizeMismatch},
	{"GetBytes limit", testGetBytesLimit},
	{"cancelled context", testCancelled},
	{"cancelled midway", testCancelledMidway},
	{"ping", testPing},
}

func testSmall(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	mustPut(t, s, "a/b/c.jpg", "hello")
	if got := mustGet(t, s, "a/b/c.jpg"); got != "hello" {
		t.Fatalf("got %q", got)
	}
	rc, info, err := s.Get(ctx, "a/b/c.jpg")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "hello" || info.Size != 5 || info.Key != "a/b/c.jpg" {
		t.Fatalf("streamed %q %+v %v", got, info, err)
	}
	if err := s.Put(ctx, "empty", strings.NewReader(""), 0); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "empty"); got != "" {
		t.Fatalf("empty object read as %q", got)
	}
}

// testLarge streams an object of several parts, of unknown size, from a
// generator, and reads it back streaming: neither end holds it in memory.
func testLarge(t *testing.T, b backend, s Store) {
	ctx := context.Background()
	const size = 16*partSize + 12345 // 80 MiB
	in := newGen(size, 7)
	var err error
	start := time.Now()
	grew := peakHeap(func() { err = s.Put(ctx, "big/object", in, -1) })
	put := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if grew > size/2 {
		t.Errorf("put of %d bytes grew the heap by %d", size, grew)
	}
	parts := b.parts(t, s, "big/object")
	if parts != 0 && parts < 2 {
		t.Errorf("uploaded in %d part(s), want a multipart upload", parts)
	}
	putGrew := grew
	h := sha256.New()
	var n int64
	start = time.Now()
	grew = peakHeap(func() {
		rc, info, gerr := s.Get(ctx, "big/object")
		if err = gerr; err != nil {
			return
		}
		defer rc.Close()
		if info.Size != size {
			err = fmt.Errorf("Get says %d bytes", info.Size)
			return
		}
		n, err = io.Copy(h, rc)
	})
	get := time.Since(start)
	if err != nil || n != size {
		t.Fatalf("read %d of %d: %v", n, size, err)
	}
	if grew > size/2 {
		t.Errorf("get of %d bytes grew the heap by %d", size, grew)
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != in.hash() {
		t.Fatal("the object read back differs from the one written")
	}
	mb := float64(size) / (1 << 20)
	t.Logf("%s: %.0f MiB in %d parts: put %.0f MiB/s (heap +%d MiB), get %.0f MiB/s (heap +%d MiB)",
		b.name, mb, parts, mb/put.Seconds(), putGrew>>20, mb/get.Seconds(), grew>>20)

	// A known size goes the same way.
	in = newGen(3*partSize+1, 9)
	if err := s.Put(ctx, "big/known", in, 3*partSize+1); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Stat(ctx, "big/known"); err != nil || info.Size != 3*partSize+1 {
		t.Fatalf("%+v %v", info, err)
	}
}

func testOverwrite(t *testing.T, _ backend, s Store) {
	mustPut(t, s, "k", "a longer first version")
	mustPut(t, s, "k", "v2")
	if got := mustGet(t, s, "k"); got != "v2" {
		t.Fatalf("got %q", got)
	}
	mustPut(t, s, "moved/k", "to be replaced")
	if err := Copy(context.Background(), s, "k", "moved/k"); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "moved/k"); got != "v2" {
		t.Fatalf("copied %q", got)
	}
}

func testMissing(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	mustPut(t, s, "folder/inside", "x")
	for _, key := range []string{"nothing", "folder", "folder/inside/deeper", "fold"} {
		if _, _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %q: %v", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Stat %q: %v", key, err)
		}
		if _, err := GetBytes(ctx, s, key, 10); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetBytes %q: %v", key, err)
		}
	}
	if keys := mustKeys(t, s, "nothing"); len(keys) != 0 {
		t.Errorf("missing folder lists %v", keys)
	}
}

func testStat(t *testing.T, _ backend, s Store) {
	before := time.Now()
	mustPut(t, s, "s/t", "12345678")
	info, err := s.Stat(context.Background(), "s/t")
	if err != nil {
		t.Fatal(err)
	}
	// A sanity bound on the clock (S3 has whole seconds), not a timing.
	if info.Key != "s/t" || info.Size != 8 || info.ModTime.Before(before.Add(-time.Minute)) || info.ModTime.After(time.Now().Add(time.Minute)) {
		t.Fatalf("%+v (written at %v)", info, before)
	}
}

func testDelete(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	mustPut(t, s, "d/x", "1")
	mustPut(t, s, "d/sub/y", "2")
	if err := s.Delete(ctx, "d/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "d/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	for _, key := range []string{"d/x", "never/was", "d/sub"} { // missing, and a folder
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete %q: %v", key, err)
		}
	}
	if got := mustKeys(t, s, ""); !slices.Equal(got, []string{"d/sub/y"}) {
		t.Fatalf("left %v", got)
	}
}

func testDeletePrefix(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	for _, k := range []string{"p/x", "p/y/z", "pq/w", "other"} {
		mustPut(t, s, k, k)
	}
	if err := s.DeletePrefix(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if got := mustKeys(t, s, ""); !slices.Equal(got, []string{"other", "pq/w"}) {
		t.Fatalf("left %v", got)
	}
	for _, p := range []string{"p", "missing", "other"} { // gone, never there, an object
		if err := s.DeletePrefix(ctx, p); err != nil {
			t.Errorf("DeletePrefix %q: %v", p, err)
		}
	}
	if got := mustGet(t, s, "other"); got != "other" {
		t.Fatal("DeletePrefix of an object's key removed the object")
	}
}

// testListMany crosses S3's page of 1000 keys, in listing and in deleting.
func testListMany(t *testing.T, b backend, s Store) {
	ctx := context.Background()
	var want []string
	for i := range 1100 {
		want = append(want, fmt.Sprintf("many/%02d/k-%04d", i%7, i))
	}
	slices.Sort(want)
	start := time.Now()
	parallel(t, want, func(k string) error { return PutBytes(ctx, s, k, []byte(k)) })
	t.Logf("%s: %d small puts, 16 at a time: %.0f/s", b.name, len(want), float64(len(want))/time.Since(start).Seconds())
	var got []string
	for info, err := range s.List(ctx, "many") {
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(info.Key)) {
			t.Fatalf("%+v", info)
		}
		got = append(got, info.Key)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d keys, want %d (first %v)", len(got), len(want), got[:min(3, len(got))])
	}
	n := 0
	for _, err := range s.List(ctx, "many") { // stopping early is allowed
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 10 {
			break
		}
	}
	if err := s.DeletePrefix(ctx, "many"); err != nil {
		t.Fatal(err)
	}
	if got := mustKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("%d keys left, first %s", len(got), got[0])
	}
}

// parallel runs f over keys with 16 workers.
func parallel(t *testing.T, keys []string, f func(string) error) {
	t.Helper()
	ch := make(chan string)
	errs := make(chan error, len(keys))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for k := range ch {
				if err := f(k); err != nil {
					errs <- fmt.Errorf("%s: %w", k, err)
				}
			}
		})
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// testListOrder: keys come in byte order on every backend, folders and
// names with bytes below '/' mixed.
func testListOrder(t *testing.T, _ backend, s Store) {
	want := []string{"o/a!", "o/a.b", "o/a/x", "o/a/y/z", "o/a0", "o/b", "o/é"}
	for _, k := range slices.Backward(want) {
		mustPut(t, s, k, "x")
	}
	mustPut(t, s, "o2/not-listed", "x")
	if got := mustKeys(t, s, "o"); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// testDeleteStale removes folders whose objects are all older than the
// cutoff. The cutoff is taken from the store's own modification times, so
// the case depends on no clock but the store's.
func testDeleteStale(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	mustPut(t, s, "chunks/c/old/0", "x")
	mustPut(t, s, "chunks/c/old/1", "x")
	mustPut(t, s, "chunks/c/direct", "x") // not in a folder: left alone
	oldest := func() time.Time {
		var newest time.Time
		for info, err := range s.List(ctx, "chunks/c") {
			if err != nil {
				t.Fatal(err)
			}
			if info.ModTime.After(newest) {
				newest = info.ModTime
			}
		}
		return newest
	}()
	mustPut(t, s, "chunks/c/mixed/0", "x")
	var cutoff time.Time
	for { // S3 keeps whole seconds: write until the store's clock has moved on
		mustPut(t, s, "chunks/c/new/0", "x")
		info, err := s.Stat(ctx, "chunks/c/new/0")
		if err != nil {
			t.Fatal(err)
		}
		if info.ModTime.After(oldest) {
			cutoff = info.ModTime
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mustPut(t, s, "chunks/c/mixed/1", "x") // written at or after the cutoff
	n, err := DeleteStale(ctx, s, "chunks/c", cutoff)
	if err != nil || n != 1 {
		t.Fatalf("DeleteStale: %d %v", n, err)
	}
	want := []string{"chunks/c/direct", "chunks/c/mixed/0", "chunks/c/mixed/1", "chunks/c/new/0"}
	if got := mustKeys(t, s, "chunks"); !slices.Equal(got, want) {
		t.Fatalf("left %v", got)
	}
	if n, err := DeleteStale(ctx, s, "chunks/none", cutoff); err != nil || n != 0 {
		t.Fatalf("missing prefix: %d %v", n, err)
	}
}

// testConcurrentPuts: concurrent writers of one key all succeed and one of
// them wins whole.
func testConcurrentPuts(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	const writers, size = 8, 256 << 10
	var versions [][]byte
	for i := range writers {
		versions = append(versions, bytes.Repeat([]byte{byte('a' + i)}, size))
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { errs[i] = PutBytes(ctx, s, "race/key", versions[i]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "race/key")
	if !slices.ContainsFunc(versions, func(v []byte) bool { return string(v) == got }) {
		t.Fatalf("read %d bytes that are no writer's whole version", len(got))
	}
}

func testUnicode(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	keys := []string{
		"u/file name (1).jpg",
		"u/ünïcødé ✓/日本語の画像.png",
		"u/plus+and&amp=eq?hash#.txt",
		"u/percent%20encoded%2F",
		"u/emoji 🖼️",
	}
	for _, k := range keys {
		mustPut(t, s, k, k)
	}
	for _, k := range keys {
		if got := mustGet(t, s, k); got != k {
			t.Errorf("%q read %q", k, got)
		}
	}
	want := slices.Sorted(slices.Values(keys))
	if got := mustKeys(t, s, "u"); !slices.Equal(got, want) {
		t.Fatalf("listed %q", got)
	}
	if err := s.Delete(ctx, keys[1]); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctx, "u/ünïcødé ✓"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, keys[1]); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}
