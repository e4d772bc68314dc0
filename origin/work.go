package origin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/edgepix/edgepix/jobs"
	"github.com/edgepix/edgepix/notify"
)

// job is a unit of background work on the JOBS stream.
type job struct {
	Cloud     string `json:"cloud"`
	BatchID   string `json:"batch_id"`
	RequestID string `json:"request_id,omitempty"`
	Notify    string `json:"notify,omitempty"` // notification URL
	// upload: the signed parameters and the file waiting in the blob store.
	RT       string     `json:"resource_type,omitempty"`
	Params   url.Values `json:"params,omitempty"`
	Filename string     `json:"filename,omitempty"`
	// eager: the asset version and its transformations.
	Type     string      `json:"type,omitempty"`
	PublicID string      `json:"public_id,omitempty"`
	Version  int64       `json:"version,omitempty"`
	Eager    []eagerSpec `json:"eager,omitempty"`
	// sprite, multi
	Creative *creative `json:"creative,omitempty"`
}

// maxJobAttempts bounds retries of transient failures (storage, a full
// render queue); after that the batch fails with the last error.
const maxJobAttempts = 8

func pendingKey(cloud, batch string) string { return "pending/" + cloud + "/" + batch }

// enqueue records the batch, then queues its job (idempotent on the batch
// id, so a retried request cannot run it twice).
func (s *Server) enqueue(ctx context.Context, kind string, b *Batch, j *job) error {
	if err := s.batches.Put(ctx, b); err != nil {
		return err
	}
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return s.jobs.Enqueue(ctx, kind, data, b.ID)
}

// RunJob is the JOBS queue handler.
func (s *Server) RunJob(ctx context.Context, jb jobs.Job) error {
	var j job
	if err := json.Unmarshal(jb.Data, &j); err != nil {
		return fmt.Errorf("undecodable job: %w", err)
	}
	acct, ok := s.accounts[j.Cloud]
	if !ok {
		return fmt.Errorf("job for unknown cloud %s", j.Cloud)
	}
	ctx = forClient(ctx, "jobs/"+j.Cloud) // background work shares renders fairly with deliveries
	b, ok, err := s.batches.Get(ctx, j.Cloud, j.BatchID)
	if err != nil {
		return &jobs.RetryError{After: time.Second, Err: err}
	}
	if !ok || b.Status == BatchComplete || b.Status == BatchFailed {
		// Already finished: a redelivery after a crash. Its notification may
		// not have been queued yet; queuing it again is idempotent.
		if ok && b.Notice != nil {
			s.send(ctx, acct, b.ID, b.Notice)
		}
		return nil
	}
	b.Status = BatchProcessing
	s.batches.Put(ctx, b)
	switch jb.Kind {
	case "upload":
		err = s.runUpload(ctx, acct, &j, b)
	case "eager":
		err = s.runEager(ctx, acct, &j, b)
	case "sprite", "multi":
		err = s.runCreative(ctx, acct, &j, b)
	case "explode":
		err = s.runExplode(ctx, acct, &j, b)
	default:
		err = fmt.Errorf("unknown job kind %s", jb.Kind)
	}
	if err == nil {
		s.metrics.Jobs.WithLabelValues(jb.Kind, "complete").Inc()
		return nil
	}
	if transient(err) && jb.Attempt < maxJobAttempts {
		s.metrics.Jobs.WithLabelValues(jb.Kind, "retry").Inc()
		return &jobs.RetryError{After: time.Duration(jb.Attempt) * time.Second, Err: err}
	}
	s.metrics.Jobs.WithLabelValues(jb.Kind, "failed").Inc()
	b.Status, b.Errors = BatchFailed, append(b.Errors, err.Error())
	var n *notice
	if j.Notify != "" {
		n = &notice{URL: j.Notify, Type: jb.Kind, ID: deliveryID(j.BatchID, jb.Kind), Payload: map[string]any{
			"status": "failed", "error": map[string]string{"message": err.Error()}, "public_id": j.PublicID}}
	}
	if perr := s.finish(ctx, acct, b, n); perr != nil {
		return &jobs.RetryError{After: time.Second, Err: perr}
	}
	return err
}

// transient tells failures worth retrying from bad input.
func transient(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.status >= 500 || se.status == 429
	}
	return errors.Is(err, errBusy)
}

// statusError carries the HTTP status an API call would have answered.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }

// runUpload processes an async upload: store, eager, notify.
func (s *Server) runUpload(ctx context.Context, acct Account, j *job, b *Batch) error {
	data, err := s.blobs.Get(pendingKey(j.Cloud, j.BatchID))
	if err != nil {
		return &statusError{500, fmt.Errorf("reading the pending file: %w", err)}
	}
	f := &form{params: j.Params}
	a, status, err := s.storeUpload(ctx, acct, j.RT, f, data, j.Filename)
	if err != nil {
		return &statusError{status, err}
	}
	r, err := s.finishUpload(ctx, acct, a, f, j.BatchID, j.RequestID)
	if err != nil {
		return &statusError{500, err}
	}
	b.Status, b.Done, b.PublicID, b.Results = BatchComplete, 1, a.PublicID, []any{r}
	if err := s.finish(ctx, acct, b, s.uploadNotice(acct, f, r, j.RequestID)); err != nil {
		return err
	}
	s.blobs.Delete(pendingKey(j.Cloud, j.BatchID))
	return nil
}

// runEager renders an asset's eager transformations and stores them, so
// that deliveries of those URLs need no rendering.
func (s *Server) runEager(ctx context.Context, acct Account, j *job, b *Batch) error {
	a, err := s.assets.Get(ctx, j.Cloud, j.RT, j.Type, j.PublicID)
	if errors.Is(err, ErrAssetNotFound) || (err == nil && a.Version != j.Version) {
		return fmt.Errorf("asset %s was deleted or replaced before its eager transformations ran", j.PublicID)
	}
	if err != nil {
		return &statusError{500, err}
	}
	results := make([]eagerResult, 0, len(j.Eager))
	var errs []string
	for _, e := range j.Eager {
		r, err := s.renderEager(ctx, a, e)
		if errors.Is(err, errBusy) {
			return err
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", e, err))
			continue
		}
		results = append(results, r)
		b.Done = len(results)
	}
	b.Status, b.Results, b.Errors = BatchComplete, anySlice(results), errs
	if len(results) == 0 {
		b.Status = BatchFailed
	}
	var n *notice
	if j.Notify != "" {
		n = &notice{URL: j.Notify, Type: "eager", ID: deliveryID(j.BatchID, "eager"), Payload: map[string]any{
			"asset_id": a.AssetID, "public_id": a.PublicID, "eager": results, "request_id": j.RequestID}}
	}
	return s.finish(ctx, acct, b, n)
}

func anySlice[T any](in []T) []any {
	out := make([]any, len(in))
	for i, v := range in {
		out[i] = v
	}
	return out
}

// deliveryID makes background notifications idempotent: a job that runs
// again after a crash sends under the same webhook-id.
func deliveryID(batch, kind string) string {
	sum := sha256.Sum256([]byte(batch + "/" + kind))
	return "msg_" + hex.EncodeToString(sum[:12])
}

// notice is a notification a batch owes. It is stored with the finished
// batch before it is queued (an outbox), so a crash in between only means
// queuing it again when the job comes back.
type notice struct {
	URL     string         `json:"url"`
	Type    string         `json:"type"`
	ID      string         `json:"id"`
	Payload map[string]any `json:"payload"`
}

// finish records a finished batch with its notice, then queues the notice.
func (s *Server) finish(ctx context.Context, acct Account, b *Batch, n *notice) error {
	b.Notice = n
	if err := s.batches.Put(ctx, b); err != nil {
		return &statusError{500, err}
	}
	if n != nil {
		s.send(ctx, acct, b.ID, n)
	}
	return nil
}

// send queues a notice (idempotent: the delivery id is fixed).
func (s *Server) send(ctx context.Context, acct Account, batchID string, n *notice) {
	p := map[string]any{}
	for k, v := range n.Payload {
		p[k] = v
	}
	s.notify(ctx, acct, n.URL, n.Type, batchID, n.ID, p)
}

// notify queues a signed notification. The payload gets its type and a
// timestamp; background work also gets its batch_id.
func (s *Server) notify(ctx context.Context, acct Account, to, typ, batchID, id string, payload map[string]any) {
	payload["notification_type"] = typ
	payload["timestamp"] = time.Now().UTC().Format(time.RFC3339)
	if batchID != "" {
		payload["batch_id"] = batchID
	}
	body, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("encoding notification", "err", err)
		return
	}
	d := &notify.Delivery{ID: id, Cloud: acct.Cloud, BatchID: batchID, Type: typ, URL: to, Body: body}
	if err := s.notifier.Send(ctx, d); err != nil {
		s.log.Error("queueing notification", "url", to, "err", err)
	}
}

// notificationURL picks the request's URL, else the account default; it
// answers 400 itself for a malformed one.
func notificationURL(f *form, acct Account, names ...string) (string, error) {
	for _, n := range names {
		if u := f.get(n); u != "" {
			return u, notify.CheckURL(u)
		}
	}
	return acct.NotificationURL, nil
}

// toMap turns a result struct into a map to add notification fields.
func toMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	m := map[string]any{}
	json.Unmarshal(b, &m)
	return m
}
