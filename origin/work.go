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

	"github.com/edgepix/edgepix/catalog"
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

// enqueue records the batch with its job, then queues the job under the
// batch id (idempotent on it, so a retried request cannot run it twice).
// If the job cannot be queued the batch is removed again: nothing is owed
// that the caller was not told about.
func (s *Server) enqueue(ctx context.Context, kind string, b *catalog.Batch, j *job) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	b.Kind, b.Job = kind, data
	if err := s.batches.Create(ctx, b); err != nil {
		return err
	}
	if err := s.jobs.Enqueue(ctx, kind, b.ID, data, b.ID); err != nil {
		if derr := s.batches.Delete(ctx, b.Cloud, b.ID); derr != nil {
			// Left pending: the sweeper queues it again later.
			s.log.Warn("removing the batch of a job that could not be queued", "batch", b.ID, "err", derr)
		}
		return fmt.Errorf("%w: job queue: %w", catalog.ErrUnavailable, err)
	}
	return nil
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
	if !ok || b.Finished() {
		// Already finished: a redelivery after a crash. Its notification may
		// not have been queued yet; queuing it again is idempotent.
		if ok && b.Notice != nil {
			if err := s.send(ctx, acct, b.ID, b.Notice); err != nil {
				return &jobs.RetryError{After: time.Second, Err: err}
			}
		}
		return nil
	}
	if jb.Kind == "eager" && jb.Attempt < maxJobAttempts && s.notStoredYet(ctx, &j) {
		// Queued before the upload's metadata, which follows at once: the
		// batch stays pending until the job can really run.
		return &jobs.RetryError{After: time.Duration(jb.Attempt) * 250 * time.Millisecond,
			Err: fmt.Errorf("asset %s version %d is not stored yet", j.PublicID, j.Version)}
	}
	b.Status = catalog.BatchProcessing
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
		result := "complete"
		if b.Status == catalog.BatchFailed { // finished, nothing made
			result = "failed"
		}
		s.metrics.Jobs.WithLabelValues(jb.Kind, result).Inc()
		return nil
	}
	if transient(err) && jb.Attempt < maxJobAttempts {
		s.metrics.Jobs.WithLabelValues(jb.Kind, "retry").Inc()
		return &jobs.RetryError{After: time.Duration(jb.Attempt) * time.Second, Err: err}
	}
	s.metrics.Jobs.WithLabelValues(jb.Kind, "failed").Inc()
	b.Status, b.Errors = catalog.BatchFailed, append(b.Errors, err.Error())
	var n *catalog.Notice
	if j.Notify != "" {
		n = &catalog.Notice{URL: j.Notify, Type: jb.Kind, ID: deliveryID(j.BatchID, jb.Kind), Payload: map[string]any{
			"status": "failed", "error": map[string]string{"message": err.Error()}, "public_id": j.PublicID}}
	}
	if perr := s.finish(ctx, acct, b, n); perr != nil {
		return &jobs.RetryError{After: time.Second, Err: perr}
	}
	return err
}

// notStoredYet reports whether the asset version an eager job is for is
// not stored (yet): its job was queued before its metadata.
func (s *Server) notStoredYet(ctx context.Context, j *job) bool {
	a, err := s.assets.Get(ctx, j.Cloud, j.RT, j.Type, j.PublicID)
	return errors.Is(err, catalog.ErrAssetNotFound) || (err == nil && a.Version < j.Version)
}

// transient tells failures worth retrying from bad input.
func transient(err error) bool {
	var se *statusError
	if errors.As(err, &se) && (se.status >= 500 || se.status == 429) {
		return true
	}
	return errors.Is(err, errBusy) || unavailable(err)
}

// statusError carries the HTTP status an API call would have answered.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// runUpload processes an async upload: store, eager, notify.
func (s *Server) runUpload(ctx context.Context, acct Account, j *job, b *catalog.Batch) error {
	data, err := s.readBlob(ctx, pendingKey(j.Cloud, j.BatchID), s.cfg.MaxUploadBytes)
	if err != nil {
		return &statusError{500, fmt.Errorf("reading the pending file: %w", err)}
	}
	f := &form{params: j.Params}
	r, err := s.storeUpload(ctx, acct, j.RT, f, data, j.Filename, j.BatchID, j.RequestID)
	if err != nil {
		return err
	}
	b.Status, b.Done, b.PublicID, b.Results = catalog.BatchComplete, 1, r.PublicID, []any{r}
	if err := s.finish(ctx, acct, b, s.uploadNotice(acct, f, r, j.RequestID)); err != nil {
		return err
	}
	s.dropBlob(ctx, pendingKey(j.Cloud, j.BatchID))
	return nil
}

// runEager renders an asset's eager transformations and stores them, so
// that deliveries of those URLs need no rendering.
func (s *Server) runEager(ctx context.Context, acct Account, j *job, b *catalog.Batch) error {
	a, err := s.assets.Get(ctx, j.Cloud, j.RT, j.Type, j.PublicID)
	switch {
	case errors.Is(err, catalog.ErrAssetNotFound) || (err == nil && a.Version < j.Version):
		// The job is queued before the upload's metadata is stored: wait
		// for it (retried), until the attempts run out.
		return &statusError{503, fmt.Errorf("asset %s version %d is not stored (or was deleted) before its eager transformations ran", j.PublicID, j.Version)}
	case err != nil:
		return &statusError{500, err}
	case a.Version != j.Version:
		return fmt.Errorf("asset %s was replaced before its eager transformations ran", j.PublicID)
	}
	results := make([]eagerResult, 0, len(j.Eager))
	var failed []map[string]string
	b.Errors = []string{}
	for _, e := range j.Eager {
		r, err := s.renderEager(ctx, a, e)
		if errors.Is(err, errBusy) || unavailable(err) {
			return err // the whole job again, later
		}
		if err != nil {
			b.Errors = append(b.Errors, fmt.Sprintf("%s: %v", e, err))
			failed = append(failed, map[string]string{"transformation": e.String(), "message": err.Error()})
			continue
		}
		results = append(results, r)
		b.Done = len(results)
	}
	b.Status, b.Results = catalog.BatchComplete, anySlice(results)
	if len(results) == 0 {
		b.Status = catalog.BatchFailed
	}
	var n *catalog.Notice
	if j.Notify != "" {
		p := map[string]any{"asset_id": a.AssetID, "public_id": a.PublicID, "status": b.Status, "eager": results,
			"request_id": j.RequestID}
		if len(failed) > 0 {
			p["errors"] = failed
		}
		n = &catalog.Notice{URL: j.Notify, Type: "eager", ID: deliveryID(j.BatchID, "eager"), Payload: p}
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

// finish records a finished batch with its notice, then queues the
// notice. If that fails the job is retried: it finds the batch finished
// and queues the notice again.
func (s *Server) finish(ctx context.Context, acct Account, b *catalog.Batch, n *catalog.Notice) error {
	b.Notice = n
	if err := s.batches.Put(ctx, b); err != nil {
		return &statusError{500, err}
	}
	if n != nil {
		return s.send(ctx, acct, b.ID, n)
	}
	return nil
}

// send queues a notice (idempotent: the delivery id is fixed).
func (s *Server) send(ctx context.Context, acct Account, batchID string, n *catalog.Notice) error {
	p := map[string]any{}
	for k, v := range n.Payload {
		p[k] = v
	}
	return s.notify(ctx, acct, n.URL, n.Type, batchID, n.ID, p)
}

// notify queues a signed notification. The payload gets its type and a
// timestamp; background work also gets its batch_id. A failure is logged
// and returned (as a store fault).
func (s *Server) notify(ctx context.Context, acct Account, to, typ, batchID, id string, payload map[string]any) error {
	payload["notification_type"] = typ
	payload["timestamp"] = time.Now().UTC().Format(time.RFC3339)
	if batchID != "" {
		payload["batch_id"] = batchID
	}
	body, err := json.Marshal(payload)
	if err != nil {
		s.log.Error("encoding notification", "err", err)
		return err
	}
	d := &notify.Delivery{ID: id, Cloud: acct.Cloud, BatchID: batchID, Type: typ, URL: to, Body: body}
	if err := s.notifier.Send(ctx, d); err != nil {
		s.log.Error("queueing notification", "url", to, "err", err)
		return fmt.Errorf("%w: notification queue: %w", catalog.ErrUnavailable, err)
	}
	return nil
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
