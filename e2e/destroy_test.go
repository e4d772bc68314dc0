package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/cloudinary/cloudinary-go/v2/api/uploader"
	"github.com/edgepix/edgepix/internal/fixtures"
)

func TestDestroyAndPing(t *testing.T) {
	a, cld := start(t)
	ping, err := cld.Admin.Ping(context.Background())
	if err != nil || ping.Status != "ok" {
		t.Fatalf("ping: %+v %v", ping, err)
	}
	req, _ := http.NewRequest(http.MethodGet, a.OriginURL+"/v1_1/demo/ping", nil)
	req.SetBasicAuth(testAccount.APIKey, "wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("ping with a bad secret: %v %v", resp, err)
	}

	upload(t, cld, fixtures.Path(t, "photo-snake-600x450-grayscale.jpg"), uploader.UploadParams{PublicID: "gone"})
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/w_10/gone.jpg"); resp.StatusCode != 200 {
		t.Fatalf("before destroy: %d", resp.StatusCode)
	}
	res, err := cld.Upload.Destroy(context.Background(), uploader.DestroyParams{PublicID: "gone"})
	if err != nil || res.Result != "ok" {
		t.Fatalf("destroy: %+v %v", res, err)
	}
	if resp, _ := get(t, a.EdgeURL+"/demo/image/upload/w_11/gone.jpg"); resp.StatusCode != 404 {
		t.Fatalf("after destroy: %d", resp.StatusCode)
	}
	res, _ = cld.Upload.Destroy(context.Background(), uploader.DestroyParams{PublicID: "gone"})
	if res.Result != "not found" {
		t.Fatalf("second destroy: %+v", res)
	}
}
