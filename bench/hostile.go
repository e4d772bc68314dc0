package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
)

// Hostile describes a run of ordinary traffic, with or without an attack
// beside it, against a running edgepix (edge and origin URLs, one account).
// Ordinary clients come from 127.0.0.1; attackers from other loopback
// addresses (Linux routes all of 127/8), so per-client bounds can tell
// them apart as they would tell real clients apart.
type Hostile struct {
	EdgeURL, OriginURL   string
	Cloud, Key, Secret   string
	Fixtures             string // ../shared/fixtures
	Duration             time.Duration
	Attack               bool
	PID                  int    // the server process, for its peak RSS (0: not sampled)
	BombHost             string // set by RunHostile: where the fetch bombs are served
	SlowConns, BigBodies int    // attack sizes (defaults 200 and 6)
	// Only, when set, runs just these attacks: "slow", "bodies", "heavy", "bombs".
	Only []string
}

// Traffic is how one kind of ordinary request fared.
type Traffic struct {
	Name      string
	OK, Total int
	P50, P99  time.Duration
}

// Rate is the share of requests that succeeded.
func (t Traffic) Rate() float64 {
	if t.Total == 0 {
		return 0
	}
	return float64(t.OK) / float64(t.Total)
}

// HostileReport is what a run measured.
type HostileReport struct {
	Ordinary []Traffic
	Attacks  map[string]int64 // attack requests (or connections) sent, by kind
	PeakRSS  int64            // bytes (VmHWM of PID), 0 when not sampled
}

// RunHostile prepares the assets (the snake for ordinary traffic, the
// 20 MP nuthatch for heavy renders), then runs the ordinary clients for
// the duration, with the attackers beside them when h.Attack is set.
func RunHostile(h Hostile) (*HostileReport, error) {
	if h.SlowConns == 0 {
		h.SlowConns = 200
	}
	if h.BigBodies == 0 {
		h.BigBodies = 6
	}
	for id, f := range map[string]string{"snake": "photo-snake-600x450-grayscale.jpg", "big": "photo-nuthatch-6028x3391.jpg"} {
		b, err := os.ReadFile(filepath.Join(h.Fixtures, f))
		if err != nil {
			return nil, err
		}
		if code, body, err := h.upload(ordinary, id, b); err != nil || code != 200 {
			return nil, fmt.Errorf("preparing %s: %d %s %v", id, code, body, err)
		}
	}
	cached := h.EdgeURL + "/" + h.Cloud + "/image/upload/c_fill,w_120,h_80/snake.jpg"
	if resp, err := ordinary.Get(cached); err != nil {
		return nil, err
	} else {
		resp.Body.Close()
	}
	snake, _ := os.ReadFile(filepath.Join(h.Fixtures, "photo-snake-600x450-grayscale.jpg"))

	ctx, cancel := context.WithTimeout(context.Background(), h.Duration)
	defer cancel()
	rep := &HostileReport{Attacks: map[string]int64{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	if h.Attack {
		stop, err := h.attack(ctx, &wg, func(kind string, n int64) {
			mu.Lock()
			rep.Attacks[kind] += n
			mu.Unlock()
		})
		if err != nil {
			return nil, err
		}
		defer stop()
		time.Sleep(time.Second) // let the attack build up first
	}
	var seq atomic.Int64
	kinds := []struct {
		name string
		do   func() bool
	}{
		{"cached delivery", func() bool { return h.get(ordinary, cached) }},
		{"uncached delivery", func() bool {
			n := seq.Add(1)
			return h.get(ordinary, fmt.Sprintf("%s/%s/image/upload/c_fill,w_%d,h_%d/snake.jpg", h.EdgeURL, h.Cloud, 50+n%400, 40+n/400))
		}},
		{"signed upload", func() bool {
			code, _, err := h.upload(ordinary, "u"+strconv.FormatInt(seq.Add(1), 10), snake)
			return err == nil && code == 200
		}},
	}
	results := make([]Traffic, len(kinds))
	for i, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			t := Traffic{Name: k.name}
			for ctx.Err() == nil {
				start := time.Now()
				ok := k.do()
				lat = append(lat, time.Since(start))
				t.Total++
				if ok {
					t.OK++
				}
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				t.P50, t.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
			}
			results[i] = t
		}()
	}
	var rss int64
	if h.PID > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				time.Sleep(200 * time.Millisecond)
			}
			rss = processHWM(h.PID)
		}()
	}
	wg.Wait()
	rep.Ordinary, rep.PeakRSS = results, rss
	return rep, nil
}

// ordinary is the well-behaved clients' HTTP client (from 127.0.0.1).
var ordinary = clientFrom("127.0.0.1", 30*time.Second)

// clientFrom returns an HTTP client whose connections leave from ip.
func clientFrom(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext,
		MaxIdleConnsPerHost: 16, DisableCompression: true}}
}

func (h *Hostile) get(c *http.Client, u string) bool {
	resp, err := c.Get(u)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == 200
}

// upload posts a signed upload (as the SDKs sign) with c.
func (h *Hostile) upload(c *http.Client, id string, data []byte) (int, string, error) {
	params := url.Values{"public_id": {id}, "timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "overwrite": {"true"}}
	params.Set("signature", signature.Sign(signature.StringToSign(params, 2), h.Secret, false))
	params.Set("api_key", h.Key)
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k := range params {
		w.WriteField(k, params.Get(k))
	}
	fw, _ := w.CreateFormFile("file", id+".bin")
	fw.Write(data)
	w.Close()
	resp, err := c.Post(h.OriginURL+"/v1_1/"+h.Cloud+"/image/upload", w.FormDataContentType(), &body)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}

// processHWM is a process's peak resident set (VmHWM), in bytes.
func processHWM(pid int) int64 { return statusHWM("/proc/" + strconv.Itoa(pid) + "/status") }

// MeasureHostile runs the ordinary clients for d against the real binary,
// quiet (the baseline) and then under attack (a fresh server each), and
// returns both reports.
func MeasureHostile(fixtures string, d time.Duration) (quiet, attacked *HostileReport, err error) {
	dir, err := os.MkdirTemp("", "edgepix-hostile-*")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := BuildBinary(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, attack := range []bool{false, true} {
		srv, err := StartBinary(bin, "--allow-private-fetch")
		if err != nil {
			return nil, nil, err
		}
		rep, err := RunHostile(srv.Hostile(fixtures, d, attack))
		alive := srv.Alive()
		srv.Stop()
		if err != nil {
			return nil, nil, err
		}
		if !alive {
			return nil, nil, fmt.Errorf("the server died (attack=%v)", attack)
		}
		if attack {
			attacked = rep
		} else {
			quiet = rep
		}
	}
	return quiet, attacked, nil
}
