// Package notify delivers signed webhook notifications durably: each
// delivery is a record in a JetStream KV bucket plus a job on a work-queue
// stream, retried on a schedule until the receiver answers 2xx, says 410
// Gone, or the schedule runs out. Every attempt is logged on the record.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgepix/edgepix/internal/replicated"
	"github.com/edgepix/edgepix/internal/safedial"
	"github.com/edgepix/edgepix/jobs"
	"github.com/edgepix/edgepix/sdk/signature"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultSchedule is the delay before each attempt: immediately, then 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure (Svix's).
var DefaultSchedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// ParseSchedule reads "0s,5s,5m": one delay per attempt.
func ParseSchedule(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, p := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("webhook retry schedule %q: %q is not a duration", s, p)
		}
		out = append(out, d)
	}
	return out, nil
}

// Config tunes delivery.
type Config struct {
	Schedule     []time.Duration // default DefaultSchedule
	Timeout      time.Duration   // per attempt; default 15 s
	AllowPrivate bool            // deliver to loopback/private addresses
	Workers      int             // concurrent deliveries; default 8
	// Attempted, when set, counts each attempt's result (delivered,
	// retry, failed), e.g. into Prometheus.
	Attempted func(result string)
	// Replicas is the least number of copies of the bucket and stream
	// (see internal/replicated).
	Replicas int
}

// Secrets returns an account's API secret and whether it signs with
// SHA-256.
type Secrets func(cloud string) (secret string, sha256 bool, ok bool)

// Delivery statuses.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Delivery is one notification to one URL and what became of it.
type Delivery struct {
	ID        string          `json:"id"` // webhook-id, the same on every attempt
	Cloud     string          `json:"cloud"`
	BatchID   string          `json:"batch_id,omitempty"`
	Type      string          `json:"notification_type"`
	URL       string          `json:"url"`
	Status    string          `json:"status"`
	Body      json.RawMessage `json:"body"`
	Attempts  []Attempt       `json:"attempts"`
	Restart   int             `json:"restart,omitempty"` // attempts before the last redeliver
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Attempt is one POST.
type Attempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	// Response is the start of the receiver's answer (snippetBytes, as
	// text), Signatures the signature headers this attempt carried.
	Response   string            `json:"response,omitempty"`
	Signatures map[string]string `json:"signatures,omitempty"`
}

// snippetBytes is how much of a receiver's answer an attempt keeps.
const snippetBytes = 256

// snippet is the start of a response body as printable text.
func snippet(b []byte) string {
	if len(b) > snippetBytes {
		b = b[:snippetBytes]
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (r < 0x20 && r != '\n' && r != '\t') {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(string(b), "?"))
}

// Notifier stores, sends and retries deliveries.
type Notifier struct {
	cfg     Config
	kv      *replicated.Bucket
	queue   *jobs.Queue
	client  *http.Client
	secrets Secrets
	log     *slog.Logger
	// Sent, when set, is called after each delivered notification (for
	// benchmarks measuring delay).
	Sent func(d *Delivery)
}

// New opens the "deliveries" bucket and the "WEBHOOKS" stream.
func New(ctx context.Context, js jetstream.JetStream, cfg Config, secrets Secrets, log *slog.Logger) (*Notifier, error) {
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	kv, err := replicated.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: "deliveries", Storage: jetstream.FileStorage, History: 1, TTL: 30 * 24 * time.Hour,
		Replicas: cfg.Replicas,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("deliveries bucket: %w", err)
	}
	q, err := jobs.Open(ctx, js, jobs.Config{Name: "WEBHOOKS", AckWait: cfg.Timeout + 15*time.Second, Replicas: cfg.Replicas}, log)
	if err != nil {
		return nil, err
	}
	d := safedial.Dialer(cfg.AllowPrivate, "deliver a webhook", 5*time.Second)
	client := &http.Client{
		Timeout:   cfg.Timeout,
		Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConnsPerHost: 16},
		// A redirect is a failed attempt, never followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Notifier{cfg: cfg, kv: kv, queue: q, client: client, secrets: secrets, log: log}, nil
}

// NewID returns a fresh webhook id.
func NewID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// CheckURL refuses what can never be delivered to (the private-address
// check happens at dial time, on the resolved IP).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("Invalid notificatiokurl %q: must be an absolute http(s) URL without credentials", raw)
	}
	return nil
}

func key(cloud, id string) string { return cloud + "." + id }

// validID reports whether id can be a delivery id (letters, digits, _ and -).
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Send stores a delivery and queues its first attempt. It is idempotent
// on d.ID: a delivery already stored is not sent again.
func (n *Notifier) Send(ctx context.Context, d *Delivery) error {
	if d.ID == "" {
		d.ID = NewID()
	}
	now := time.Now().UTC()
	d.Status, d.CreatedAt, d.UpdatedAt = Pending, now, now
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := n.kv.Create(ctx, key(d.Cloud, d.ID), b); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return err
	}
	return n.queue.Enqueue(ctx, "send", "", []byte(key(d.Cloud, d.ID)), d.ID)
}

// Run delivers until ctx ends; Wait waits for the workers.
func (n *Notifier) Run(ctx context.Context) { n.queue.Run(ctx, n.cfg.Workers, n.attempt) }

// Stop makes the workers start no new delivery; those in flight go on
// until they finish or Run's ctx ends (then they are retried later).
func (n *Notifier) Stop() { n.queue.Stop() }

// Wait blocks until the workers have stopped.
func (n *Notifier) Wait() { n.queue.Wait() }

func (n *Notifier) load(ctx context.Context, k string) (*Delivery, error) {
	e, err := n.kv.Get(ctx, k)
	if err != nil {
		return nil, err
	}
	var d Delivery
	if err := json.Unmarshal(e.Value(), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (n *Notifier) save(ctx context.Context, r *Delivery) error {
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = n.kv.Put(ctx, key(r.Cloud, r.ID), b)
	return err
}

// attempt is the queue handler: one POST, recorded, then done or retried.
func (n *Notifier) attempt(ctx context.Context, j jobs.Job) error {
	r, err := n.load(ctx, string(j.Data))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil // expired or removed: nothing to send
	}
	if err != nil {
		return &jobs.RetryError{After: time.Second, Err: err}
	}
	if r.Status != Pending {
		return nil
	}
	k := len(r.Attempts) - r.Restart // attempts in this round
	if k == 0 && r.Restart == 0 {
		if wait := n.cfg.Schedule[0] - time.Since(r.CreatedAt); wait > 0 {
			return &jobs.RetryError{After: wait, Err: errors.New("first attempt is scheduled later")}
		}
	}
	a, retryAfter := n.post(ctx, r)
	r.Attempts = append(r.Attempts, a)
	k++
	var next time.Duration
	switch {
	case a.StatusCode >= 200 && a.StatusCode < 300:
		r.Status = Delivered
	case a.StatusCode == http.StatusGone:
		r.Status = Failed
	case k >= len(n.cfg.Schedule):
		r.Status = Failed
	default:
		next = jitter(n.cfg.Schedule[k])
		next = max(next, retryAfter)
	}
	if err := n.save(ctx, r); err != nil {
		return &jobs.RetryError{After: time.Second, Err: err}
	}
	if n.cfg.Attempted != nil {
		switch r.Status {
		case Pending:
			n.cfg.Attempted("retry")
		default:
			n.cfg.Attempted(r.Status)
		}
	}
	switch r.Status {
	case Delivered:
		if n.Sent != nil {
			n.Sent(r)
		}
		return nil
	case Failed:
		n.log.Warn("webhook delivery failed for good", "id", r.ID, "url", r.URL, "attempts", len(r.Attempts),
			"status", a.StatusCode, "err", a.Error)
		return nil
	}
	return &jobs.RetryError{After: next, Err: fmt.Errorf("attempt %d: %d %s", k, a.StatusCode, a.Error)}
}

// jitter spreads a delay by ±10%.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((mrand.Float64()*0.2-0.1)*float64(d))
}

// post sends one signed attempt, stamped with the time of sending.
func (n *Notifier) post(ctx context.Context, d *Delivery) (Attempt, time.Duration) {
	start := time.Now()
	a := Attempt{At: start.UTC()}
	secret, sha256Alg, ok := n.secrets(d.Cloud)
	if !ok {
		a.Error = "unknown account " + d.Cloud
		return a, 0
	}
	ts := start.Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		a.Error = err.Error()
		return a, 0
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "edgepix-webhooks/1")
	h.Set("X-Cld-Timestamp", strconv.FormatInt(ts, 10))
	h.Set("X-Cld-Signature", signature.Notification(d.Body, ts, secret, sha256Alg))
	h.Set("webhook-id", d.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", signature.StandardWebhook(d.ID, ts, d.Body, []byte(secret)))
	a.Signatures = map[string]string{}
	for _, k := range []string{"X-Cld-Timestamp", "X-Cld-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"} {
		a.Signatures[k] = h.Get(k)
	}
	resp, err := n.client.Do(req)
	a.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		a.Error = err.Error()
		return a, 0
	}
	head := make([]byte, snippetBytes)
	k, _ := io.ReadFull(resp.Body, head)
	a.Response = snippet(head[:k])
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a.StatusCode = resp.StatusCode
	var retryAfter time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = min(time.Duration(s)*time.Second, 24*time.Hour)
	} else if t, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
		retryAfter = min(max(time.Until(t), 0), 24*time.Hour)
	}
	if a.StatusCode < 200 || a.StatusCode >= 300 {
		a.Error = http.StatusText(a.StatusCode)
	}
	return a, retryAfter
}

// List returns a cloud's deliveries, newest first, filtered by batch_id
// and status when they are not empty.
func (n *Notifier) List(ctx context.Context, cloud, batchID, status string) ([]*Delivery, error) {
	keys, err := n.kv.KeysMatching(ctx, cloud+".*")
	if err != nil {
		return nil, err
	}
	out := []*Delivery{}
	for _, k := range keys {
		r, err := n.load(ctx, k)
		if err != nil {
			continue
		}
		if (batchID == "" || r.BatchID == batchID) && (status == "" || r.Status == status) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *Delivery) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// ErrNotFound is returned for an unknown delivery id.
var ErrNotFound = errors.New("delivery not found")

// Redeliver sends a delivery again (with the same webhook-id), whatever
// became of it, with a fresh retry schedule.
func (n *Notifier) Redeliver(ctx context.Context, cloud, id string) (*Delivery, error) {
	if !validID(id) { // ids are KV key tokens: no '.', '*' or '>'
		return nil, ErrNotFound
	}
	r, err := n.load(ctx, key(cloud, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	r.Status, r.Restart = Pending, len(r.Attempts)
	if err := n.save(ctx, r); err != nil {
		return nil, err
	}
	return r, n.queue.Enqueue(ctx, "send", "", []byte(key(cloud, id)), fmt.Sprintf("%s-re%d", id, len(r.Attempts)))
}
