package bench

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/blob/s3test"
	"github.com/edgepix/edgepix/internal/app"
)

// BackendFigure compares the S3 blob store with the file store in one run:
// the miss path (renders/s) and uploads (uploads/s).
type BackendFigure struct {
	Concurrency          int
	Misses, Uploads      int // per round
	UploadBytes          int
	MissFile, MissS3     Load
	UploadFile, UploadS3 Load
}

// MissRatio is S3's render rate over the file store's.
func (f BackendFigure) MissRatio() float64 { return f.MissS3.PerSecond() / f.MissFile.PerSecond() }

// UploadRatio is S3's upload rate over the file store's.
func (f BackendFigure) UploadRatio() float64 {
	return f.UploadS3.PerSecond() / f.UploadFile.PerSecond()
}

// MeasureBackends runs `serve` over each backend at once, both idle but
// for the load of the round: in each of rounds rounds, misses distinct
// c_fill sizes of missPath through the edge, then uploads of uploadPath
// through the SDK, at conc connections, first on one backend then on the
// other (alternating which goes first), so that both see the machine
// alike. The S3 backend is a versitygw on loopback (see blob/s3test), its
// credentials set in this process's environment.
func MeasureBackends(missPath, uploadPath string, rounds, misses, uploads, conc int) (BackendFigure, error) {
	f := BackendFigure{Concurrency: conc, Misses: rounds * misses, Uploads: rounds * uploads}
	data, err := os.ReadFile(uploadPath)
	if err != nil {
		return f, err
	}
	f.UploadBytes = len(data)
	root, err := os.MkdirTemp("", "edgepix-bench-s3-*")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(root)
	srv, err := s3test.Run(root)
	if err != nil {
		return f, err
	}
	defer srv.Stop()
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	blobURL, err := srv.CreateBucket("bench", "")
	if err != nil {
		return f, err
	}
	file, err := StartServer()
	if err != nil {
		return f, err
	}
	defer file.Close()
	s3, err := StartServer(func(c *app.Config) { c.Blob = blobURL })
	if err != nil {
		return f, err
	}
	defer s3.Close()
	servers := []*Server{file, s3}
	for _, s := range servers {
		if err := s.Upload(missPath, "miss"); err != nil {
			return f, err
		}
	}
	for r := range rounds {
		for k := range 2 {
			i := (r + k) % 2
			s := servers[i]
			base := 200 + r*misses
			miss, err := Drive(conc, 0, misses, func(j int) string {
				return s.App.EdgeURL + "/bench/image/upload/c_fill,w_" + strconv.Itoa(base+j) + ",h_200/miss.jpg"
			})
			if err != nil {
				return f, err
			}
			up, err := uploadLoad(s, uploadPath, r*uploads, uploads, conc)
			if err != nil {
				return f, err
			}
			if i == 0 {
				f.MissFile, f.UploadFile = merge(f.MissFile, miss), merge(f.UploadFile, up)
			} else {
				f.MissS3, f.UploadS3 = merge(f.MissS3, miss), merge(f.UploadS3, up)
			}
		}
	}
	return f, nil
}

// uploadLoad uploads path n times at conc connections through the SDK,
// as public_ids from first on.
func uploadLoad(s *Server, path string, first, n, conc int) (Load, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan int, n)
	for i := range n {
		next <- first + i
	}
	close(next)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for i := range next {
				if err := s.UploadWith(path, uploader.UploadParams{PublicID: "up" + strconv.Itoa(i)}); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return Load{Requests: n, Elapsed: time.Since(start)}, firstErr
}
