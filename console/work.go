package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/edgepix/edgepix/transform/grammar"
)

// batches lists background work, newest first (filter by status).
func (c *Console) batches(w http.ResponseWriter, r *http.Request, u *user) {
	status := r.URL.Query().Get("status")
	if status != "" && status != "pending" && status != "processing" && status != "complete" && status != "failed" {
		status = ""
	}
	data := map[string]any{"Status": status}
	list, err := u.api.Batches(ctx(r), status, "", 100)
	if err != nil {
		data["Error"] = "The batches could not be loaded: " + message(err)
	}
	data["Batches"] = list
	for _, b := range list {
		if !b.Finished() {
			data["Refresh"] = true // the page's script reloads it while work runs
		}
	}
	c.render(w, r, http.StatusOK, "batches", u, data)
}

// startWork starts background work by tag (sprite, multi) or on one PDF
// (explode), through the Upload API.
func (c *Console) startWork(w http.ResponseWriter, r *http.Request, u *user) {
	kind := r.PostFormValue("kind")
	p := url.Values{"async": {"true"}}
	if hook := strings.TrimSpace(r.PostFormValue("notification_url")); hook != "" {
		p.Set("notification_url", hook)
	}
	switch kind {
	case "sprite", "multi":
		tag := strings.TrimSpace(r.PostFormValue("tag"))
		if tag == "" {
			c.back(w, r, u, "/console/batches", "No work was started: give the tag whose images to combine.")
			return
		}
		p.Set("tag", tag)
		if tx := strings.TrimSpace(r.PostFormValue("transformation")); tx != "" {
			if _, err := grammar.ParseChain(tx); err != nil {
				c.back(w, r, u, "/console/batches", "No work was started: the transformation is not valid: "+err.Error())
				return
			}
			p.Set("transformation", tx)
		}
		if kind == "multi" {
			f := r.PostFormValue("format")
			if f != "gif" && f != "webp" && f != "pdf" {
				c.back(w, r, u, "/console/batches", "No work was started: a multi is a gif, webp or pdf.")
				return
			}
			p.Set("format", f)
		}
	case "explode":
		id := strings.TrimSpace(r.PostFormValue("public_id"))
		if grammar.CheckPublicID(id) != nil {
			c.back(w, r, u, "/console/batches", "No work was started: give the public_id of a PDF.")
			return
		}
		p.Set("public_id", id)
		p.Set("transformation", "pg_all")
	default:
		c.back(w, r, u, "/console/batches", "No work was started: choose sprite, multi or explode.")
		return
	}
	res, err := u.api.Call(ctx(r), "image", kind, p)
	if err != nil {
		c.back(w, r, u, "/console/batches", fmt.Sprintf("The %s could not be started: %s", kind, message(err)))
		return
	}
	msg := fmt.Sprintf("Started a %s.", kind)
	if id, ok := res["batch_id"].(string); ok {
		msg = fmt.Sprintf("Started a %s (batch %s).", kind, id)
	} else if res["public_id"] != nil {
		msg = fmt.Sprintf("Made a %s: %v.", kind, res["public_id"])
	}
	c.back(w, r, u, "/console/batches", msg)
}

// signatureHeaders are the headers every notification is signed with.
var signatureHeaders = []string{"X-Cld-Timestamp", "X-Cld-Signature", "webhook-id", "webhook-timestamp", "webhook-signature"}

// webhooks shows the delivery log with every attempt.
func (c *Console) webhooks(w http.ResponseWriter, r *http.Request, u *user) {
	status := r.URL.Query().Get("status")
	if status != "pending" && status != "delivered" && status != "failed" {
		status = ""
	}
	data := map[string]any{"Status": status, "SignatureHeaders": signatureHeaders}
	list, err := u.api.Deliveries(ctx(r), status, "")
	if err != nil {
		data["Error"] = "The deliveries could not be loaded: " + message(err)
	}
	data["Deliveries"] = list
	c.render(w, r, http.StatusOK, "webhooks", u, data)
}

// redeliver sends one delivery again.
func (c *Console) redeliver(w http.ResponseWriter, r *http.Request, u *user) {
	id := r.PostFormValue("id")
	if id == "" || len(id) > 128 {
		c.back(w, r, u, "/console/webhooks", "Nothing was sent: no delivery was chosen.")
		return
	}
	if _, err := u.api.Redeliver(ctx(r), id); err != nil {
		c.back(w, r, u, "/console/webhooks", "The delivery could not be sent again: "+message(err))
		return
	}
	c.back(w, r, u, "/console/webhooks", "Delivery "+id+" is being sent again.")
}
