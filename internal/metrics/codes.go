package metrics

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Codes counts one server's requests by status code with the label lookup
// done once per code, not once per request: a request costs an array
// index and an atomic add. A code's series appears when first counted.
type Codes struct {
	vec    *prometheus.CounterVec
	server string
	byCode [600]atomic.Pointer[prometheus.Counter]
}

// RequestCodes returns the request counters of server.
func (m *Metrics) RequestCodes(server string) *Codes {
	return &Codes{vec: m.Requests, server: server}
}

// Inc counts one request answered with code.
func (c *Codes) Inc(code int) {
	if code < 0 || code >= len(c.byCode) {
		c.vec.WithLabelValues(c.server, strconv.Itoa(code)).Inc()
		return
	}
	p := c.byCode[code].Load()
	if p == nil {
		ctr := c.vec.WithLabelValues(c.server, strconv.Itoa(code))
		c.byCode[code].CompareAndSwap(nil, &ctr)
		p = c.byCode[code].Load()
	}
	(*p).Inc()
}
