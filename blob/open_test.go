package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgepix/edgepix/blob/s3test"
)

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	s, err := Open("file://" + filepath.Join(dir, "with space"))
	if err != nil {
		t.Fatal(err)
	}
	if d := s.(*Dir); d.root != filepath.Join(dir, "with space") {
		t.Fatalf("root %q", d.root)
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	s, err = Open("s3://bucket/a/b?endpoint=http://127.0.0.1:1&region=eu-west-3&path_style=1&part_size=16777216&concurrency=2")
	if err != nil {
		t.Fatal(err)
	}
	if st := s.(*S3); st.bucket != "bucket" || st.prefix != "a/b/" || st.partSize != 16<<20 || st.concurrency != 2 {
		t.Fatalf("%+v", st)
	}
	for _, bad := range []string{
		"", "/plain/path", "ftp://x/y", "file://host/path", "file:///x?y=1",
		"s3:///prefix", "s3://b?unknown=1", "s3://b?endpoint=127.0.0.1:9000", "s3://b?path_style=maybe",
		"s3://b?part_size=1024", "s3://b?concurrency=0", "s3://b/bad//prefix",
	} {
		if _, err := Open(bad); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}

// TestS3MissingBucket: a missing bucket is an error of its own, not a
// missing key, and Ping reports it.
func TestS3MissingBucket(t *testing.T) {
	srv := s3test.Start(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	s, err := Open(srv.URL("no-such-bucket", ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping of a missing bucket succeeded")
	}
	if err := PutBytes(ctx, s, "k", []byte("x")); err == nil {
		t.Error("Put to a missing bucket succeeded")
	}
}

// TestDirObjectIsNotFolder: the file store cannot put a key under another
// key, and says so.
func TestDirObjectIsNotFolder(t *testing.T) {
	s, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "a/b", "x")
	if err := PutBytes(context.Background(), s, "a/b/c", []byte("y")); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Fatalf("%v", err)
	}
}

// TestDirPingReadOnly: Ping fails once the root is gone.
func TestDirPing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	s, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(root)
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a removed root succeeded")
	}
}

// TestS3ServerDown: while the server is down, reads fail with an error that
// is not ErrNotFound (a caller must not take an outage for a missing
// object) and Ping fails; after a restart the data is there.
func TestS3ServerDown(t *testing.T) {
	srv := s3test.Start(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	s, err := Open(srv.Bucket(t, "down", "p"))
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "k", "kept")
	srv.Stop()
	ctx := context.Background()
	if _, _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get while down: %v", err)
	}
	if _, err := s.Stat(ctx, "missing"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Stat while down: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping while down succeeded")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "k"); got != "kept" {
		t.Fatalf("after restart: %q", got)
	}
}
