// Package blob stores originals and derived files behind one interface,
// Store, with two backends chosen by URL (see Open):
//
//   - file:///path: files under a directory. A write goes to a temporary
//     file that is fsynced and renamed into place, and the directory is
//     fsynced, so a reader never sees a half-written object, even after a
//     crash. A shared POSIX mount works as well.
//   - s3://bucket/prefix?endpoint=...&region=...&path_style=1: any
//     S3-compatible service through aws-sdk-go-v2, with multipart uploads
//     (its transfermanager) for large objects and streamed reads.
//
// Keys are '/'-separated paths ("assets/demo/ab12/orig"), validated alike on
// every backend (see ValidKey). A prefix names a folder: "a/b" covers the
// keys "a/b/...", never "a/bc" nor the key "a/b" itself. A key must not also
// be used as a folder of other keys (a file cannot be a directory).
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"time"
)

// ErrNotFound is returned for a missing key, by every backend.
var ErrNotFound = errors.New("blob: not found")

// ErrInvalidKey is wrapped by the error for a key or prefix that ValidKey
// refuses.
var ErrInvalidKey = errors.New("blob: invalid key")

// ErrTooLarge is returned by GetBytes for an object over its limit.
var ErrTooLarge = errors.New("blob: object larger than the limit")

// ErrSize is wrapped by the error of a Put whose reader did not yield the
// size it was given; nothing is stored then.
var ErrSize = errors.New("blob: size mismatch")

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time // last written; S3 gives whole seconds
}

// Store is a blob store. Every method is safe for concurrent use. Writes
// are atomic: a reader sees the old object or the new one whole, and the
// last of concurrent writes of one key wins.
type Store interface {
	// Put stores what r yields under key, replacing any object there.
	// size is the number of bytes r yields, or -1 if unknown; when it is
	// known and r yields another count, Put fails with ErrSize.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Get opens the object under key for streaming; the caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes the object under key.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every key under the folder prefix; an empty
	// or missing folder is not an error.
	DeletePrefix(ctx context.Context, prefix string) error
	// List yields every object under the folder prefix (all depths; ""
	// lists the whole store) in ascending byte order of key, streaming
	// page by page. An error ends the sequence.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
	// Ping checks that the store answers (the directory is there and
	// writable, the bucket is reachable), for readiness checks.
	Ping(ctx context.Context) error
}

// Open returns the store a URL names: file:///path or
// s3://bucket[/prefix][?endpoint=URL&region=R&path_style=1&part_size=N&concurrency=N].
// S3 credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_PROFILE, shared config files, ...).
func Open(rawURL string) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob: store URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("blob: file URL %q has a host; use file:///absolute/path", rawURL)
		}
		if u.Path == "" || len(u.Query()) > 0 {
			return nil, fmt.Errorf("blob: file URL %q needs an absolute path and no query", rawURL)
		}
		return NewDir(u.Path)
	case "s3":
		return openS3(u)
	}
	return nil, fmt.Errorf("blob: store URL %q: scheme must be file or s3", rawURL)
}
