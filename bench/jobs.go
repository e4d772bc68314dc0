package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudinary/cloudinary-go/v2"
	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/notify"
	"github.com/edgepix/edgepix/transform/codec"
	"github.com/edgepix/edgepix/transform/grammar"
	"github.com/edgepix/edgepix/transform/pipeline"
)

// EagerFigure compares eager_async uploads, measured until every
// notification has arrived, with the same renders done in-process.
type EagerFigure struct {
	Uploads        int
	Ours, Baseline time.Duration
}

// Ratio is the baseline's time over ours (uploads/s ours / baseline).
func (f EagerFigure) Ratio() float64 { return f.Baseline.Seconds() / f.Ours.Seconds() }

// eagerChains are the three eager transformations of the benchmark.
var eagerChains = []string{"c_fill,w_400,h_300", "c_scale,w_800", "c_thumb,w_150,h_150,g_auto"}

// MeasureEager uploads path n times with three eager transformations and
// eager_async, until all n eager notifications have reached a loopback
// receiver; the baseline renders the same 3n derivatives in-process with
// as many goroutines as the origin has job workers (2).
func MeasureEager(path string, n int) (EagerFigure, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return EagerFigure{}, err
	}
	f := EagerFigure{Uploads: n}
	start := time.Now()
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				for _, c := range eagerChains {
					ch, _ := grammar.ParseChain(c)
					if _, err := pipeline.Render(src, pipeline.Request{Chain: ch}); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	f.Baseline = time.Since(start)
	if firstErr != nil {
		return f, firstErr
	}

	s, err := StartServer()
	if err != nil {
		return f, err
	}
	defer s.Close()
	got := make(chan struct{}, n)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"notification_type":"eager"`) {
			got <- struct{}{}
		}
	}))
	defer rcv.Close()
	start = time.Now()
	for i := range n {
		if err := s.UploadWith(path, uploader.UploadParams{PublicID: fmt.Sprintf("eager%d", i),
			Eager: strings.Join(eagerChains, "|"), EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL}); err != nil {
			return f, err
		}
	}
	for range n {
		select {
		case <-got:
		case <-time.After(5 * time.Minute):
			return f, fmt.Errorf("eager notifications did not all arrive")
		}
	}
	f.Ours = time.Since(start)
	return f, nil
}

// FanoutFigure is notification delivery to an idle loopback receiver.
type FanoutFigure struct {
	Deliveries         int
	Ours, Baseline     time.Duration // all delivered
	DelayP50, DelayP99 time.Duration // queued → received, one at a time
}

// Ratio is our deliveries/s over plain POSTs' (same concurrency).
func (f FanoutFigure) Ratio() float64 { return f.Baseline.Seconds() / f.Ours.Seconds() }

// MeasureFanout queues n signed notifications through the durable
// notifier (as a finished job does) and times them to a loopback receiver,
// next to n plain unsigned POSTs from 8 goroutines (the notifier's worker
// count) to the same receiver.
func MeasureFanout(n int) (FanoutFigure, error) {
	f := FanoutFigure{Deliveries: n}
	var mu sync.Mutex
	var delays []time.Duration
	got := make(chan struct{}, n)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Queued int64 }
		json.NewDecoder(r.Body).Decode(&body)
		if body.Queued > 0 {
			mu.Lock()
			delays = append(delays, time.Since(time.Unix(0, body.Queued)))
			mu.Unlock()
		}
		got <- struct{}{}
	}))
	defer rcv.Close()

	start := time.Now()
	var wg sync.WaitGroup
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				resp, err := client.Post(rcv.URL, "application/json", strings.NewReader(`{}`))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	for range n {
		<-got
	}
	f.Baseline = time.Since(start)

	s, err := StartServer()
	if err != nil {
		return f, err
	}
	defer s.Close()
	start = time.Now()
	for range n {
		body := fmt.Sprintf(`{"notification_type":"upload","queued":%d}`, time.Now().UnixNano())
		d := &notify.Delivery{Cloud: benchAccount.Cloud, Type: "upload", URL: rcv.URL, Body: []byte(body)}
		if err := s.App.Notifier.Send(bgctx, d); err != nil {
			return f, err
		}
	}
	for range n {
		select {
		case <-got:
		case <-time.After(time.Minute):
			return f, fmt.Errorf("notifications did not all arrive")
		}
	}
	f.Ours = time.Since(start)

	// Delay on an idle receiver: one notification at a time.
	mu.Lock()
	delays = delays[:0]
	mu.Unlock()
	for range 200 {
		body := fmt.Sprintf(`{"notification_type":"upload","queued":%d}`, time.Now().UnixNano())
		d := &notify.Delivery{Cloud: benchAccount.Cloud, Type: "upload", URL: rcv.URL, Body: []byte(body)}
		if err := s.App.Notifier.Send(bgctx, d); err != nil {
			return f, err
		}
		<-got
	}
	slices.Sort(delays)
	f.DelayP50, f.DelayP99 = delays[len(delays)/2], delays[len(delays)*99/100]
	return f, nil
}

// ExplodeFigure compares exploding a PDF through the API (a background job,
// timed until its notification arrives) with rendering the same pages
// in-process one after the other.
type ExplodeFigure struct {
	Pages          int
	Ours, Baseline time.Duration
}

// Ratio is the baseline's time over ours.
func (f ExplodeFigure) Ratio() float64 { return f.Baseline.Seconds() / f.Ours.Seconds() }

// MeasureExplode explodes path into JPEG pages.
func MeasureExplode(path string) (ExplodeFigure, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return ExplodeFigure{}, err
	}
	info, err := codec.Probe(src)
	if err != nil {
		return ExplodeFigure{}, err
	}
	f := ExplodeFigure{Pages: info.Pages}
	start := time.Now()
	for n := 1; n <= info.Pages; n++ {
		ch, _ := grammar.ParseChain("pg_" + strconv.Itoa(n))
		if _, err := pipeline.Render(src, pipeline.Request{Chain: ch, Format: "jpg"}); err != nil {
			return f, err
		}
	}
	f.Baseline = time.Since(start)

	s, err := StartServer()
	if err != nil {
		return f, err
	}
	defer s.Close()
	got := make(chan struct{}, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"notification_type":"explode"`) {
			got <- struct{}{}
		}
	}))
	defer rcv.Close()
	if err := s.Upload(path, "doc"); err != nil {
		return f, err
	}
	cld, err := cloudinary.NewFromURL(benchAccount.URL(s.App.OriginURL))
	if err != nil {
		return f, err
	}
	start = time.Now()
	res, err := cld.Upload.Explode(bgctx, uploader.ExplodeParams{PublicID: "doc", Format: "jpg", NotificationURL: rcv.URL})
	if err != nil || res.Error.Message != "" {
		return f, fmt.Errorf("explode: %v %s", err, res.Error.Message)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Minute):
		return f, fmt.Errorf("no explode notification")
	}
	f.Ours = time.Since(start)
	return f, nil
}

// SpriteFigure compares generate_sprite through the API with the same
// work done in-process.
type SpriteFigure struct {
	Images         int
	Ours, Baseline time.Duration
}

// Ratio is the baseline's time over ours.
func (f SpriteFigure) Ratio() float64 { return f.Baseline.Seconds() / f.Ours.Seconds() }

// MeasureSprite tags n uploads of path, then times a sprite of them at
// c_scale,w_100 (PNG) through the API (median of runs), next to decoding,
// scaling, stacking and encoding the same images in-process.
func MeasureSprite(path string, n, runs int) (SpriteFigure, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return SpriteFigure{}, err
	}
	f := SpriteFigure{Images: n}
	ch, _ := grammar.ParseChain("c_scale,w_100")
	f.Baseline = Median(runs, func() {
		var frames []*image.NRGBA
		h := 0
		for range n {
			img, err := codec.Decode(src, codec.DecodeOptions{})
			if err != nil {
				return
			}
			b := img.Frames[0].Rect
			img, _ = pipeline.Apply(img, ch, b.Dx(), b.Dy(), pipeline.Limits{})
			frames = append(frames, img.Frames[0])
			h += img.Frames[0].Rect.Dy()
		}
		sheet := image.NewNRGBA(image.Rect(0, 0, 100, h))
		y := 0
		for _, fr := range frames {
			draw.Draw(sheet, fr.Rect.Add(image.Pt(0, y)), fr, fr.Rect.Min, draw.Src)
			y += fr.Rect.Dy()
		}
		pipeline.Encode(&codec.Image{Frames: []*image.NRGBA{sheet}, Delays: []int{0}}, nil, "png", "")
	})

	s, err := StartServer()
	if err != nil {
		return f, err
	}
	defer s.Close()
	for i := range n {
		if err := s.UploadWith(path, uploader.UploadParams{PublicID: fmt.Sprintf("sp%02d", i), Tags: []string{"sprite"}}); err != nil {
			return f, err
		}
	}
	cld, err := cloudinary.NewFromURL(benchAccount.URL(s.App.OriginURL))
	if err != nil {
		return f, err
	}
	var callErr error
	f.Ours = Median(runs, func() {
		res, err := cld.Upload.GenerateSprite(bgctx, uploader.GenerateSpriteParams{Tag: "sprite", Transformation: "c_scale,w_100"})
		if err == nil && res.Error.Message != "" {
			err = errors.New(res.Error.Message)
		}
		if err != nil {
			callErr = err
		}
	})
	return f, callErr
}
