package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api"
	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

// An eager batch none of whose transformations can be made reports its
// failure in the notification (status, and each transformation's error),
// in the batch, and in edgepix_jobs_total{result="failed"}; one partly
// made is complete and lists what failed.
func TestEagerFailureNotification(t *testing.T) {
	a, cld := start(t)
	rcv := newReceiver(t, cld)
	snake := fixtures.Path(t, "photo-snake-600x450-grayscale.jpg")
	upload(t, cld, snake, uploader.UploadParams{PublicID: "nolayer", Eager: "l_missing_overlay",
		EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL()})
	h := rcv.wait("failed eager")
	if h.Body["status"] != "failed" || len(h.Body["eager"].([]any)) != 0 {
		t.Fatalf("failed eager notification: %s", h.Raw)
	}
	errs, _ := h.Body["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors in the notification: %s", h.Raw)
	}
	e := errs[0].(map[string]any)
	if e["transformation"] != "l_missing_overlay" || !strings.Contains(e["message"].(string), "Overlay not found") {
		t.Fatalf("the error names neither the transformation nor the cause: %v", e)
	}
	_, m := get(t, a.MetricsURL)
	if !strings.Contains(string(m), `edgepix_jobs_total{kind="eager",result="failed"} 1`) {
		t.Errorf("the failed batch is not counted as failed:\n%s", grepLines(string(m), "edgepix_jobs_total"))
	}
	if b := batchStatus(t, a, h.Body["batch_id"].(string)); b["status"] != "failed" || !strings.Contains(fmt.Sprint(b["errors"]), "Overlay not found") {
		t.Errorf("batch: %v", b)
	}

	upload(t, cld, snake, uploader.UploadParams{PublicID: "halfway", Eager: "c_scale,w_40|l_missing_overlay",
		EagerAsync: api.Bool(true), EagerNotificationURL: rcv.URL()})
	h = rcv.wait("partly made eager")
	if h.Body["status"] != "complete" || len(h.Body["eager"].([]any)) != 1 || len(h.Body["errors"].([]any)) != 1 {
		t.Fatalf("partly made eager notification: %s", h.Raw)
	}
	_, m = get(t, a.MetricsURL)
	if !strings.Contains(string(m), `edgepix_jobs_total{kind="eager",result="complete"} 1`) {
		t.Errorf("the partly made batch is not counted as complete:\n%s", grepLines(string(m), "edgepix_jobs_total"))
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
