package sdk

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// BatchInfo is the state of a piece of background work.
type BatchInfo struct {
	ID       string `json:"batch_id"`
	Kind     string `json:"kind"`
	PublicID string `json:"public_id"`
	Status   string `json:"status"` // pending, processing, complete, failed
	Progress struct {
		Done  int `json:"done"`
		Total int `json:"total"`
	} `json:"progress"`
	Results   []any    `json:"results"`
	Errors    []string `json:"errors"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

// Finished says whether the batch will change no more.
func (b *BatchInfo) Finished() bool { return b.Status == "complete" || b.Status == "failed" }

// BatchStatus loads one batch.
func (c *Client) BatchStatus(ctx context.Context, id string) (*BatchInfo, error) {
	var b BatchInfo
	return &b, c.admin(ctx, http.MethodGet, "batches/"+url.PathEscape(id), nil, &b)
}

// Batches lists batches, newest first, filtered by status and kind when
// they are not empty.
func (c *Client) Batches(ctx context.Context, status, kind string, max int) ([]BatchInfo, error) {
	p := url.Values{}
	if status != "" {
		p.Set("status", status)
	}
	if kind != "" {
		p.Set("kind", kind)
	}
	if max > 0 {
		p.Set("max_results", strconv.Itoa(max))
	}
	var out struct {
		Batches []BatchInfo `json:"batches"`
	}
	return out.Batches, c.admin(ctx, http.MethodGet, "batches", p, &out)
}

// WaitBatch polls a batch every interval until it finishes (or ctx ends),
// calling progress with each state seen.
func (c *Client) WaitBatch(ctx context.Context, id string, interval time.Duration, progress func(*BatchInfo)) (*BatchInfo, error) {
	for {
		b, err := c.BatchStatus(ctx, id)
		if err != nil {
			return nil, err
		}
		if progress != nil {
			progress(b)
		}
		if b.Finished() {
			return b, nil
		}
		select {
		case <-ctx.Done():
			return b, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// Delivery is one webhook notification and its attempts.
type Delivery struct {
	ID       string    `json:"id"`
	BatchID  string    `json:"batch_id"`
	Type     string    `json:"notification_type"`
	URL      string    `json:"url"`
	Status   string    `json:"status"` // pending, delivered, failed
	Attempts []Attempt `json:"attempts"`
	Body     any       `json:"body"`
	Created  time.Time `json:"created_at"`
	Updated  time.Time `json:"updated_at"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	At         time.Time         `json:"at"`
	StatusCode int               `json:"status_code"`
	Error      string            `json:"error"`
	DurationMS int64             `json:"duration_ms"`
	Response   string            `json:"response"`   // the start of the receiver's answer
	Signatures map[string]string `json:"signatures"` // the signature headers sent
}

// Deliveries lists webhook deliveries, filtered by status and batch when
// they are not empty.
func (c *Client) Deliveries(ctx context.Context, status, batchID string) ([]Delivery, error) {
	p := url.Values{}
	if status != "" {
		p.Set("status", status)
	}
	if batchID != "" {
		p.Set("batch_id", batchID)
	}
	var out struct {
		Deliveries []Delivery `json:"deliveries"`
	}
	return out.Deliveries, c.admin(ctx, http.MethodGet, "webhooks/deliveries", p, &out)
}

// Redeliver sends a delivery again.
func (c *Client) Redeliver(ctx context.Context, id string) (*Delivery, error) {
	var d Delivery
	return &d, c.admin(ctx, http.MethodPost, "webhooks/deliveries/"+url.PathEscape(id)+"/redeliver", nil, &d)
}
