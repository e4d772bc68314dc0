// Package sdk is a small Go client for edgepix (and Cloudinary): config
// from CLOUDINARY_URL, signed Upload API calls, delivery URLs with
// signatures, batch status, and verification of notifications. It needs
// only the standard library and edgepix's grammar and signature packages.
package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgepix/edgepix/sdk/signature"
)

// Config is an account and where to reach it.
type Config struct {
	Cloud, APIKey, APISecret string
	APIBase                  string // upload_prefix, e.g. http://127.0.0.1:8081
	DeliveryBase             string // e.g. http://127.0.0.1:8080
	SHA256                   bool   // signature_algorithm=sha256
}

// FromURL reads cloudinary://KEY:SECRET@CLOUD?upload_prefix=...; the
// delivery base defaults to http://127.0.0.1:8080.
func FromURL(cloudinaryURL, deliveryBase string) (Config, error) {
	u, err := url.Parse(cloudinaryURL)
	if err != nil || u.Scheme != "cloudinary" || u.User == nil || u.Host == "" {
		return Config{}, errors.New("sdk: CLOUDINARY_URL must look like cloudinary://KEY:SECRET@CLOUD")
	}
	secret, _ := u.User.Password()
	c := Config{Cloud: u.Host, APIKey: u.User.Username(), APISecret: secret, DeliveryBase: deliveryBase,
		APIBase: u.Query().Get("upload_prefix"), SHA256: u.Query().Get("signature_algorithm") == "sha256"}
	if c.APIBase == "" {
		c.APIBase = "https://api.cloudinary.com"
	}
	if c.DeliveryBase == "" {
		c.DeliveryBase = "http://127.0.0.1:8080"
	}
	return c, nil
}

// Client calls the API of one account.
type Client struct {
	Config
	HTTP *http.Client
}

// New returns a client with a 2-minute timeout.
func New(c Config) *Client { return &Client{Config: c, HTTP: &http.Client{Timeout: 2 * time.Minute}} }

// APIError is an error answer: {"error":{"message":...}} and its status.
type APIError struct {
	Status     int
	Message    string
	RetryAfter time.Duration // the answer's Retry-After, if any
}

func (e *APIError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// Sign adds timestamp, api_key and signature to params.
func (c *Client) Sign(params url.Values) url.Values {
	params.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	params.Del("signature")
	params.Set("signature", signature.Sign(signature.StringToSign(params, 2), c.APISecret, c.SHA256))
	params.Set("api_key", c.APIKey)
	return params
}

// Call sends a signed Upload API action (upload, explicit, destroy, rename,
// tags, context, sprite, multi, explode) and decodes the JSON answer.
func (c *Client) Call(ctx context.Context, resourceType, action string, params url.Values) (map[string]any, error) {
	body := strings.NewReader(c.Sign(params).Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(resourceType, action), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// Upload sends a file (a local path, or a URL or data: URI passed as is)
// with the given parameters.
func (c *Client) Upload(ctx context.Context, resourceType, file string, params url.Values) (map[string]any, error) {
	if strings.HasPrefix(file, "http://") || strings.HasPrefix(file, "https://") || strings.HasPrefix(file, "data:") {
		params.Set("file", file)
		return c.Call(ctx, resourceType, "upload", params)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range c.Sign(params) {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	part, err := mw.CreateFormFile("file", filepath.Base(file))
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(part, f); err != nil {
		return nil, err
	}
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(resourceType, "upload"), &buf)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// Batch returns the status of background work (edgepix's own API).
func (c *Client) Batch(ctx context.Context, id string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.APIBase+"/v1_1/"+c.Cloud+"/batches/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.APIKey, c.APISecret)
	return c.do(req)
}

func (c *Client) endpoint(resourceType, action string) string {
	if resourceType == "" {
		resourceType = "image"
	}
	return c.APIBase + "/v1_1/" + c.Cloud + "/" + resourceType + "/" + action
}

func (c *Client) do(req *http.Request) (map[string]any, error) {
	var out map[string]any
	err := c.send(req, &out)
	return out, err
}

// send performs req and decodes its JSON answer into out; an error answer
// is an *APIError.
func (c *Client) send(req *http.Request, out any) error {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	var probe struct {
		Error *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("%s answered with no JSON: %.200s", req.URL.Path, b),
			RetryAfter: retryAfter(resp)}
	}
	if probe.Error != nil || resp.StatusCode >= 400 {
		e := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp)}
		if probe.Error != nil {
			e.Message = probe.Error.Message
		}
		json.Unmarshal(b, out)
		return e
	}
	return json.Unmarshal(b, out)
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(resp *http.Response) time.Duration {
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
