// Package s3test runs a real S3-compatible server, versitygw (Apache-2.0)
// at a pinned release over a temporary directory, on a loopback port for
// tests. The server is built once with `go install` into the user's cache
// directory (`make s3server` does it ahead of the tests).
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Version is the pinned versitygw release.
const Version = "v1.8.0"

const pkg = "github.com/versity/versitygw/cmd/versitygw"

// Credentials and region the test server accepts.
const (
	AccessKey = "edgepix-test"
	SecretKey = "edgepix-test-secret"
	Region    = "us-east-1"
)

// Path is where the pinned build lives: $EDGEPIX_S3SERVER if set, else
// <user cache dir (or the temp dir)>/edgepix/tools/versitygw-<Version>/versitygw.
func Path() (string, error) {
	if p := os.Getenv("EDGEPIX_S3SERVER"); p != "" {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil { // no $HOME
		cache = os.TempDir()
	}
	return filepath.Join(cache, "edgepix", "tools", "versitygw-"+Version, "versitygw"), nil
}

// Install returns the path of the pinned build, building it first if it is
// not there yet (minutes on a fresh machine; a file lock keeps concurrent
// test binaries from building it twice).
func Install() (string, error) {
	bin, err := Path()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil || os.Getenv("EDGEPIX_S3SERVER") != "" {
		return bin, err
	}
	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil { // built by another process meanwhile
		return bin, nil
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", pkg+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %v\n%s", pkg, Version, err, out)
	}
	return bin, os.Rename(filepath.Join(tmp, "versitygw"), bin)
}

// Server is a versitygw over a temporary directory.
type Server struct {
	Endpoint string // http://127.0.0.1:PORT
	bin      string
	root     string
	addr     string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a server until the test ends. If the server cannot be built it
// skips the test, saying so loudly; if it is built but fails, the test fails.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Install()
	if err != nil {
		msg := fmt.Sprintf("\n*** SKIPPING: the S3 test server (versitygw %s) cannot be built: %v\n*** run `make s3server` to see why\n", Version, err)
		fmt.Fprint(os.Stderr, msg)
		tb.Skip(msg)
	}
	s, err := run(bin, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Run starts a server over the directory root outside of a test (for
// benchmarks), building it first if needed; the caller stops it.
func Run(root string) (*Server, error) {
	bin, err := Install()
	if err != nil {
		return nil, err
	}
	return run(bin, root)
}

func run(bin, root string) (*Server, error) {
	s := &Server{bin: bin, root: root}
	for _, d := range []string{"data", "meta"} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o755); err != nil {
			return nil, err
		}
	}
	for try := 0; ; try++ { // a free port can be taken between choosing and binding it
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		s.addr = l.Addr().String()
		s.Endpoint = "http://" + s.addr
		l.Close()
		if err = s.Restart(); err == nil {
			return s, nil
		} else if try == 2 {
			return nil, fmt.Errorf("starting versitygw: %w", err)
		}
	}
}

// Restart starts the server again, on the same port and data, after Stop.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("versitygw is running")
	}
	logf, err := os.Create(filepath.Join(s.root, "log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", s.addr, "--quiet", "posix", "--sidecar", filepath.Join(s.root, "meta"), filepath.Join(s.root, "data"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-done:
			out, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("versitygw exited: %v\n%s", cmd.ProcessState, out)
		default:
		}
		if resp, err := http.Get(s.Endpoint + "/"); err == nil {
			resp.Body.Close()
			s.cmd, s.done = cmd, done
			return nil
		}
	}
	cmd.Process.Kill()
	<-done
	return errors.New("versitygw did not answer within 30s")
}

// Stop kills the server (as a crash would); Restart brings it back.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.cmd.Process.Kill()
		<-s.done
		s.cmd = nil
	}
}

// Env returns the AWS_* variables that give a process (or, through
// t.Setenv, this one) the server's credentials and keep the SDK from
// looking anywhere else (shared files, instance metadata).
func (s *Server) Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
}

// Bucket creates a bucket and returns the store URL of prefix in it
// (prefix may be "").
func (s *Server) Bucket(tb testing.TB, name, prefix string) string {
	tb.Helper()
	u, err := s.CreateBucket(name, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// CreateBucket is Bucket outside of a test.
func (s *Server) CreateBucket(name, prefix string) (string, error) {
	c := s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		return "", fmt.Errorf("creating bucket %s: %w", name, err)
	}
	return s.URL(name, prefix), nil
}

// URL is the store URL of prefix in bucket on this server.
func (s *Server) URL(bucket, prefix string) string {
	q := url.Values{"endpoint": {s.Endpoint}, "region": {Region}, "path_style": {"1"}}
	return (&url.URL{Scheme: "s3", Host: bucket, Path: "/" + prefix, RawQuery: q.Encode()}).String()
}
