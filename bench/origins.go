package bench

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/app"
	"github.com/edgepix/edgepix/origin"
)

// OriginsFigure compares two origins with one, in one run: the miss path
// through an edge that spreads its misses over the origins it is given,
// and eager_async work, which every origin on the NATS takes from the
// shared queue.
type OriginsFigure struct {
	Concurrency        int
	Misses, Eagers     int // in all, per set-up
	MissOne, MissTwo   Load
	EagerOne, EagerTwo Load // uploads until their notifications arrived
}

// MissRatio is two origins' render rate over one's.
func (f OriginsFigure) MissRatio() float64 { return f.MissTwo.PerSecond() / f.MissOne.PerSecond() }

// EagerRatio is two origins' eager rate over one's.
func (f OriginsFigure) EagerRatio() float64 { return f.EagerTwo.PerSecond() / f.EagerOne.PerSecond() }

const benchToken = "bench-derive-token"

// MeasureOrigins runs a `serve` (origin, edge and NATS) on a file:// blob
// store and, in each of rounds rounds, measures with it alone and with a
// second `edgepix origin` on the same NATS and store beside it (alternating
// which set-up goes first): misses distinct c_fill sizes of path through an
// edge given the origins of the set-up, at conc connections, then eagers
// eager_async uploads of path (three eager transformations each) until
// every notification arrived.
func MeasureOrigins(path string, rounds, misses, eagers, conc int) (OriginsFigure, error) {
	f := OriginsFigure{Concurrency: conc, Misses: rounds * misses, Eagers: rounds * eagers}
	root, err := os.MkdirTemp("", "edgepix-bench-origins-*")
	if err != nil {
		return f, err
	}
	defer os.RemoveAll(root)
	blobURL := "file://" + filepath.Join(root, "blobs")
	s, err := StartServer(func(c *app.Config) {
		c.Blob, c.DeriveToken, c.NATSListen = blobURL, benchToken, "127.0.0.1:0"
	})
	if err != nil {
		return f, err
	}
	defer s.Close()
	natsURL := strings.Replace(s.App.NATSURL, "nats://", "nats://"+benchToken+"@", 1)
	if err := s.Upload(path, "miss"); err != nil {
		return f, err
	}
	got := make(chan struct{}, 1024)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"notification_type":"eager"`) {
			got <- struct{}{}
		}
	}))
	defer rcv.Close()

	size := 200
	for r := range rounds {
		for k := range 2 {
			two := (r+k)%2 == 1
			miss, eager, err := originsRound(s, natsURL, blobURL, filepath.Join(root, fmt.Sprintf("r%d-%d", r, k)),
				path, rcv.URL, got, two, size, r*eagers, misses, eagers, conc)
			if err != nil {
				return f, err
			}
			size += misses
			if two {
				f.MissTwo, f.EagerTwo = merge(f.MissTwo, miss), merge(f.EagerTwo, eager)
			} else {
				f.MissOne, f.EagerOne = merge(f.MissOne, miss), merge(f.EagerOne, eager)
			}
		}
	}
	return f, nil
}

// originsRound measures one set-up: the serve's origin alone, or with a
// second origin started for the round in dir.
func originsRound(s *Server, natsURL, blobURL, dir, path, hook string, got chan struct{}, two bool,
	size, first, misses, eagers, conc int) (Load, Load, error) {
	log := slog.New(slog.DiscardHandler)
	origins := s.App.OriginURL
	if two {
		o, err := app.Start(app.Config{Mode: app.Origin, DataDir: filepath.Join(dir, "origin"), OriginAddr: "127.0.0.1:0",
			NATSURL: natsURL, Blob: blobURL, DeriveToken: benchToken, Accounts: []origin.Account{benchAccount},
			AllowPrivateHooks: true}, log)
		if err != nil {
			return Load{}, Load{}, err
		}
		defer o.Close()
		origins += "," + o.OriginURL
	}
	e, err := app.Start(app.Config{Mode: app.Edge, DataDir: filepath.Join(dir, "edge"), EdgeAddr: "127.0.0.1:0",
		OriginURL: origins, DeriveToken: benchToken, Accounts: []origin.Account{benchAccount}}, log)
	if err != nil {
		return Load{}, Load{}, err
	}
	defer e.Close()
	miss, err := Drive(conc, 0, misses, func(j int) string {
		return e.EdgeURL + "/bench/image/upload/c_fill,w_" + strconv.Itoa(size+j) + ",h_200/miss.jpg"
	})
	if err != nil {
		return miss, Load{}, err
	}
	start := time.Now()
	for i := range eagers {
		if err := s.UploadWith(path, uploader.UploadParams{PublicID: "eager" + strconv.Itoa(first+i),
			Eager: strings.Join(eagerChains, "|"), EagerAsync: api.Bool(true), EagerNotificationURL: hook}); err != nil {
			return miss, Load{}, err
		}
	}
	for range eagers {
		select {
		case <-got:
		case <-time.After(5 * time.Minute):
			return miss, Load{}, fmt.Errorf("eager notifications did not all arrive")
		}
	}
	return miss, Load{Requests: eagers, Elapsed: time.Since(start)}, nil
}
