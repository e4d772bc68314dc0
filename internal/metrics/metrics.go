// Package metrics holds the Prometheus metrics of one edgepix process. Each
// App gets its own registry, so tests can run several in one process.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the counters, histograms and gauges both servers update.
type Metrics struct {
	Registry      *prometheus.Registry
	Requests      *prometheus.CounterVec   // server, code
	Latency       *prometheus.HistogramVec // server
	Cache         *prometheus.CounterVec   // result: hit, miss
	CacheBytes    *prometheus.GaugeVec     // tier: memory, disk
	CacheDisk     prometheus.Gauge         // 1 while the edge's disk tier takes writes
	CacheFaults   *prometheus.CounterVec   // fault: rebuilt, disk_full, write_error, stalled, abandoned…
	Renders       *prometheus.CounterVec   // result: ok, error
	RenderSeconds prometheus.Histogram
	QueueDepth    prometheus.Gauge
	Purges        prometheus.Counter
	Jobs          *prometheus.CounterVec // kind, result: complete, retry, failed, requeued
	Webhooks      *prometheus.CounterVec // result: delivered, retry, failed
}

// New registers every metric in a fresh registry (plus the Go runtime and
// process collectors).
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepix_http_requests_total", Help: "HTTP requests by server and status code.",
		}, []string{"server", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "edgepix_http_request_duration_seconds", Help: "HTTP request latency by server.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"server"}),
		Cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepix_edge_cache_requests_total", Help: "Edge cache lookups by result (hit, miss).",
		}, []string{"result"}),
		CacheBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "edgepix_edge_cache_bytes", Help: "Bytes held by each edge cache tier.",
		}, []string{"tier"}),
		CacheDisk: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgepix_edge_cache_disk_enabled", Help: "1 while the edge cache's disk tier takes writes, 0 once it is disabled.",
		}),
		CacheFaults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepix_edge_cache_faults_total", Help: "Edge cache disk faults by kind (the disk tier is optional: each is survived).",
		}, []string{"fault"}),
		Renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepix_origin_renders_total", Help: "Derived images rendered by the origin, by result.",
		}, []string{"result"}),
		RenderSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "edgepix_origin_render_duration_seconds", Help: "Time to render one derived image.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "edgepix_origin_render_queue_depth", Help: "Renders waiting for a worker.",
		}),
		Purges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgepix_edge_purges_total", Help: "Purge messages applied by the edge.",
		}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepix_jobs_total", Help: "Background job runs by kind and result (complete, retry, failed; requeued: a stuck batch's lost job queued again).",
		}, []string{"kind", "result"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgepix_webhook_attempts_total", Help: "Notification attempts by result (delivered, retry, failed).",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(m.Requests, m.Latency, m.Cache, m.CacheBytes, m.CacheDisk, m.CacheFaults, m.Renders, m.RenderSeconds,
		m.QueueDepth, m.Purges, m.Jobs, m.Webhooks, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
