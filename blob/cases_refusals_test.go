package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// invalidKeys are refused by every method of every backend.
var invalidKeys = []string{
	"", "/a", "a/", "a//b", "..", "../x", "a/../b", "a/./b", ".", "a/.tmp-x",
	"nul\x00", "new\nline", "del\x7f", "bad\xffutf8",
	strings.Repeat("k", 1025), "a/" + strings.Repeat("s", 256),
}

func testInvalidKeys(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	for _, k := range invalidKeys {
		checks := map[string]error{
			"Put":          PutBytes(ctx, s, k, []byte("x")),
			"Delete":       s.Delete(ctx, k),
			"DeletePrefix": s.DeletePrefix(ctx, k),
		}
		_, _, checks["Get"] = s.Get(ctx, k)
		_, checks["Stat"] = s.Stat(ctx, k)
		if k != "" { // "" lists the whole store
			_, checks["List"] = Keys(ctx, s, k)
		}
		for op, err := range checks {
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s(%q): %v", op, k, err)
			}
		}
	}
	if keys := mustKeys(t, s, ""); len(keys) != 0 {
		t.Fatalf("invalid keys stored %q", keys)
	}
	for _, k := range []string{"a", "a/b.c/d", ".hidden/x", "a..b", strings.Repeat(strings.Repeat("k", 200)+"/", 5) + "k"} {
		if err := ValidKey(k); err != nil {
			t.Errorf("valid key refused: %v", err)
		}
	}
}

// testSizeMismatch: a reader that yields other than the size given fails
// the Put with ErrSize and leaves the previous object as it was.
func testSizeMismatch(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	mustPut(t, s, "m/kept", "previous")
	for _, tc := range []struct {
		data string
		size int64
	}{{"short", 10}, {"much longer than ten", 10}} {
		for _, key := range []string{"m/kept", "m/new"} {
			// A stream, and bytes in memory (the S3 store sends those in one request).
			for _, r := range []io.Reader{strings.NewReader(tc.data), bytes.NewReader([]byte(tc.data))} {
				if err := s.Put(ctx, key, r, tc.size); !errors.Is(err, ErrSize) {
					t.Errorf("%q as %d bytes to %s (%T): %v", tc.data, tc.size, key, r, err)
				}
			}
		}
		large := newGen(2*partSize, 3) // fails in a later part of a multipart upload
		if err := s.Put(ctx, "m/new", large, 2*partSize+1); !errors.Is(err, ErrSize) {
			t.Errorf("large short reader: %v", err)
		}
	}
	if got := mustGet(t, s, "m/kept"); got != "previous" {
		t.Fatalf("the previous object became %q", got)
	}
	if _, err := s.Stat(ctx, "m/new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a failed Put stored something: %v", err)
	}
}

func testGetBytesLimit(t *testing.T, _ backend, s Store) {
	ctx := context.Background()
	mustPut(t, s, "l", strings.Repeat("x", 100))
	if _, err := GetBytes(ctx, s, "l", 99); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit 99: %v", err)
	}
	if b, err := GetBytes(ctx, s, "l", 100); err != nil || len(b) != 100 {
		t.Fatalf("limit 100: %d %v", len(b), err)
	}
}

func testCancelled(t *testing.T, _ backend, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := PutBytes(ctx, s, "c/x", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
	if _, _, err := s.Get(ctx, "c/x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
	for _, err := range s.List(ctx, "c") {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("List: %v", err)
		}
	}
	if keys := mustKeys(t, s, ""); len(keys) != 0 {
		t.Fatalf("stored %q", keys)
	}
}

// testCancelledMidway: a context that ends during a large upload fails it,
// stores nothing and leaves nothing (the multipart upload is aborted).
func testCancelledMidway(t *testing.T, _ backend, s Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelAfter{r: newGen(8*partSize, 5), n: 3 * partSize, cancel: cancel}
	if err := s.Put(ctx, "c/big", r, -1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: %v", err)
	}
	if _, err := s.Stat(context.Background(), "c/big"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a cancelled Put stored something: %v", err)
	}
}

// cancelAfter calls cancel once n bytes have been read from r.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func testPing(t *testing.T, _ backend, s Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
