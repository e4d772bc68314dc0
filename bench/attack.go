package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// attack starts the attackers; they run until ctx ends. count reports
// what each sent. stop releases what they hold (the bomb server).
func (h *Hostile) attack(ctx context.Context, wg *sync.WaitGroup, count func(string, int64)) (func(), error) {
	bombs, err := bombServer()
	if err != nil {
		return nil, err
	}
	h.BombHost = bombs.Addr().String()
	run := func(kind string, n int, f func(i int)) {
		if len(h.Only) > 0 && !slices.Contains(h.Only, kind) {
			return
		}
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					f(i)
				}
			}()
		}
	}
	// Slowloris: connections that send a header byte a second, from
	// 127.0.0.3, half to each port.
	edgeHost, originHost := strings.TrimPrefix(h.EdgeURL, "http://"), strings.TrimPrefix(h.OriginURL, "http://")
	run("slow", h.SlowConns, func(i int) {
		host := edgeHost
		if i%2 == 1 {
			host = originHost
		}
		count("slow connections", 1)
		slowloris(ctx, "127.0.0.3", host)
	})
	// Anonymous huge bodies: 100 MB multipart posts without a signature,
	// from 127.0.0.4.
	big := clientFrom("127.0.0.4", 2*time.Minute)
	run("bodies", h.BigBodies, func(int) {
		count("anonymous 100 MB bodies", 1)
		pr, pw := io.Pipe()
		go func() {
			io.WriteString(pw, "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n")
			zero := make([]byte, 64<<10)
			for n := 0; n < 100<<20 && ctx.Err() == nil; n += len(zero) {
				if _, err := pw.Write(zero); err != nil {
					break
				}
			}
			io.WriteString(pw, "\r\n--x--\r\n")
			pw.Close()
		}()
		req, _ := http.NewRequestWithContext(ctx, "POST", h.OriginURL+"/v1_1/"+h.Cloud+"/image/upload", pr)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		if resp, err := big.Do(req); err == nil {
			resp.Body.Close()
		} else {
			pr.CloseWithError(err)
			time.Sleep(100 * time.Millisecond)
		}
	})
	// Heavy renders: distinct strong blurs of the 20 MP image, from 127.0.0.2.
	heavy := clientFrom("127.0.0.2", 2*time.Minute)
	var n int64
	var nmu sync.Mutex
	run("heavy", 4, func(int) {
		nmu.Lock()
		n++
		k := n
		nmu.Unlock()
		count("heavy renders", 1)
		h.get(heavy, fmt.Sprintf("%s/%s/image/upload/e_blur:2000,w_%d/big.jpg", h.EdgeURL, h.Cloud, 3000+k))
	})
	// Bombs: a GIF with a huge screen and many frames fetched anonymously
	// (scaled up), and signed uploads of decompression bombs, from 127.0.0.5.
	bomber := clientFrom("127.0.0.5", time.Minute)
	run("bombs", 2, func(i int) {
		nmu.Lock()
		n++
		k := n
		nmu.Unlock()
		count("bombs", 1)
		if i == 0 {
			h.get(bomber, fmt.Sprintf("%s/%s/image/fetch/w_5000,h_5000/http://%s/bomb%d.gif", h.EdgeURL, h.Cloud, h.BombHost, k))
			return
		}
		for _, b := range bombFiles() {
			h.upload(bomber, fmt.Sprintf("bomb%d", k), b)
		}
	})
	return func() { bombs.Close() }, nil
}

// slowloris holds one connection open, sending a header byte a second
// until the server closes it or ctx ends.
func slowloris(ctx context.Context, from, host string) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		time.Sleep(100 * time.Millisecond)
		return
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		return
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if _, err := io.WriteString(c, "X"); err != nil {
			return
		}
	}
}

var bombOnce struct {
	sync.Once
	files [][]byte
}

// bombFiles are decompression bombs small enough to upload.
func bombFiles() [][]byte {
	bombOnce.Do(func() {
		jpg, _ := JPEGTwoFrames(65535, 65535)
		bombOnce.files = [][]byte{GIFBomb(4000, 4000, 200), jpg}
	})
	return bombOnce.files
}

// bombServer serves the GIF bomb at any path, on loopback.
func bombServer() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	gif := GIFBomb(4000, 4000, 200)
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		w.Write(gif)
	}))
	return ln, nil
}
