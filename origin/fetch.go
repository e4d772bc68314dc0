package origin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/edgepix/edgepix/internal/safedial"
)

// fetchClient returns an HTTP client that checks the resolved address at
// dial time (so DNS tricks cannot bypass it) unless allowPrivate.
func fetchClient(allowPrivate bool, timeout time.Duration) *http.Client {
	d := safedial.Dialer(allowPrivate, "fetch", 10*time.Second)
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// resolveFile turns a `file` parameter into bytes: a data: URI or an
// http(s) URL fetched by the origin (at most limit bytes).
func resolveFile(ctx context.Context, client *http.Client, s string, limit int64) ([]byte, string, error) {
	switch {
	case strings.HasPrefix(s, "data:"):
		meta, data, ok := strings.Cut(s[5:], ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			return nil, "", errors.New("Invalid data URI: only base64 data URIs are supported")
		}
		b, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, "", errors.New("Invalid data URI: " + err.Error())
		}
		return b, "", nil
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s, nil)
		if err != nil {
			return nil, "", err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, "", fmt.Errorf("Error in loading %s - %v", s, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, "", fmt.Errorf("Error in loading %s - %d %s", s, resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return nil, "", err
		}
		if int64(len(b)) > limit {
			return nil, "", fmt.Errorf("File size too large. Got more than %d bytes", limit)
		}
		name := s[strings.LastIndexByte(s, '/')+1:]
		if i := strings.IndexAny(name, "?#"); i >= 0 {
			name = name[:i]
		}
		return b, name, nil
	}
	return nil, "", errors.New("Invalid file parameter: expected a file, a data URI or an http(s) URL")
}
