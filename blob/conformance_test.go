package blob

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgepix/edgepix/blob/s3test"
)

// partSize is the S3 part size in these tests (S3's minimum), so that a
// "large" object of a few parts stays quick to move.
const partSize = 5 << 20

// backend opens a fresh, empty store for one case of the conformance suite.
type backend struct {
	name string
	open func(t *testing.T) Store
	// parts reports how many parts the object under key was uploaded in
	// (0: the backend has no such notion).
	parts func(t *testing.T, s Store, key string) int
	// leftovers lists what a backend left beside its objects (temporary
	// files, unfinished multipart uploads).
	leftovers func(t *testing.T, s Store) []string
}

// fileBackend is the file store in a temporary directory.
func fileBackend() backend {
	return backend{
		name: "file",
		open: func(t *testing.T) Store {
			s, err := Open("file://" + t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		parts: func(*testing.T, Store, string) int { return 0 },
		leftovers: func(t *testing.T, s Store) []string {
			var tmp []string
			filepath.WalkDir(s.(*Dir).root, func(p string, e os.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(e.Name(), tmpPrefix) {
					tmp = append(tmp, p)
				}
				return nil
			})
			return tmp
		},
	}
}

// s3Backend is the S3 store over a real versitygw on loopback (the test is
// skipped, loudly, only if versitygw cannot be built), a prefix per case.
func s3Backend(t *testing.T) backend {
	srv := s3test.Start(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	srv.Bucket(t, "conformance", "")
	var n atomic.Int64
	raw := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.Endpoint), Region: s3test.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, s3test.SecretKey, ""),
	})
	s3b := backend{
		name: "s3",
		open: func(t *testing.T) Store {
			u := srv.URL("conformance", fmt.Sprintf("case-%d", n.Add(1))) + fmt.Sprintf("&part_size=%d", partSize)
			s, err := Open(u)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		parts: func(t *testing.T, s Store, key string) int {
			st := s.(*S3)
			out, err := raw.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &st.bucket, Key: st.object(key)})
			if err != nil {
				t.Fatal(err)
			}
			// A multipart upload's ETag is "<md5 of part md5s>-<parts>".
			var parts int
			if _, p, ok := strings.Cut(strings.Trim(aws.ToString(out.ETag), `"`), "-"); ok {
				fmt.Sscan(p, &parts)
			}
			return max(parts, 1)
		},
		leftovers: func(t *testing.T, s Store) []string { // unfinished multipart uploads
			st := s.(*S3)
			out, err := raw.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &st.bucket, Prefix: &st.prefix})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, u := range out.Uploads {
				keys = append(keys, "multipart upload of "+aws.ToString(u.Key))
			}
			return keys
		},
	}
	return s3b
}

// TestConformance runs every case against every backend.
func TestConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) { runCases(t, fileBackend()) })
	t.Run("s3", func(t *testing.T) { runCases(t, s3Backend(t)) })
}

func runCases(t *testing.T, b backend) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := b.open(t)
			c.run(t, b, s)
			if l := b.leftovers(t, s); len(l) > 0 {
				t.Errorf("left behind: %v", l)
			}
		})
	}
}

// gen yields n deterministic pseudo-random bytes without holding them,
// hashing what it yields.
type gen struct {
	n, off uint64
	x      uint64
	sum    hash.Hash
}

func newGen(n int64, seed uint64) *gen {
	return &gen{n: uint64(n), x: seed | 1, sum: sha256.New()}
}

func (g *gen) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(uint64(len(p)), g.n-g.off)]
	for i := range p {
		g.x ^= g.x << 13
		g.x ^= g.x >> 7
		g.x ^= g.x << 17
		p[i] = byte(g.x)
	}
	g.off += uint64(len(p))
	g.sum.Write(p)
	return len(p), nil
}

func (g *gen) hash() string { return fmt.Sprintf("%x", g.sum.Sum(nil)) }

// peakHeap runs f and returns by how much the in-use heap grew at most
// while it ran, sampled every millisecond.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak - base
}

func mustPut(t *testing.T, s Store, key, data string) {
	t.Helper()
	if err := PutBytes(context.Background(), s, key, []byte(data)); err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
}

func mustGet(t *testing.T, s Store, key string) string {
	t.Helper()
	b, err := GetBytes(context.Background(), s, key, 1<<30)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return string(b)
}

func mustKeys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	keys, err := Keys(context.Background(), s, prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	return keys
}
