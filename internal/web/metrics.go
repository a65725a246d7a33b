package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"helpportal/internal/search"
	"helpportal/internal/store"
)

// metrics are the operational figures served at /metrics in the Prometheus format. Each
// server has its own registry, so tests can build many servers.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	search       prometheus.Histogram
	loginFailure prometheus.Counter
}

// scrapeTimeout bounds each store query a scrape makes.
const scrapeTimeout = time.Second

func (s *Server) newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "helpportal_http_requests_total", Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "helpportal_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
	m.search = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "helpportal_search_duration_seconds", Help: "Time to answer a search query (search page and API), planning and ranking included.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.loginFailure = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "helpportal_login_failures_total", Help: "Sign-in attempts refused for a wrong email or password.",
	})
	m.reg.MustRegister(m.requests, m.duration, m.search, m.loginFailure,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpportal_change_seq", Help: "The newest content change number this instance has seen.",
		}, func() float64 { return float64(s.store.ChangeSeq()) }),
	)
	if st, ok := s.search.(interface{ Stats() search.Stats }); ok {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpportal_search_index_lag", Help: "Content changes not yet applied to this instance's search index.",
		}, func() float64 { return float64(max(s.store.ChangeSeq()-st.Stats().Applied, 0)) }))
	}
	if ob, ok := s.store.(interface {
		OutboxStats(context.Context) (store.OutboxStats, error)
	}); ok {
		m.reg.MustRegister(outboxCollector{ob.OutboxStats})
	}
	if ss, ok := s.store.(interface {
		ActiveSessions(context.Context, time.Time) (int, error)
	}); ok {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "helpportal_sessions_active", Help: "Live sign-in sessions (all instances); -1 when the store does not answer.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
			defer cancel()
			n, err := ss.ActiveSessions(ctx, s.now())
			if err != nil {
				return -1
			}
			return float64(n)
		}))
	}
	return m
}

// outboxCollector reports the mail outbox from one query per scrape.
type outboxCollector struct {
	stats func(context.Context) (store.OutboxStats, error)
}

var (
	outboxDepthDesc = prometheus.NewDesc("helpportal_mail_outbox_depth",
		"Mails waiting to be delivered (all instances); -1 when the store does not answer.", nil, nil)
	outboxRetryingDesc = prometheus.NewDesc("helpportal_mail_outbox_retrying",
		"Waiting mails whose last delivery attempt failed (all instances).", nil, nil)
	outboxGaveUpDesc = prometheus.NewDesc("helpportal_mail_outbox_given_up",
		"Mails given up after 24 hours of failed attempts (all instances, ever).", nil, nil)
)

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- outboxRetryingDesc
	ch <- outboxGaveUpDesc
}

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, -1)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(st.Waiting))
	ch <- prometheus.MustNewConstMetric(outboxRetryingDesc, prometheus.GaugeValue, float64(st.Retrying))
	ch <- prometheus.MustNewConstMetric(outboxGaveUpDesc, prometheus.GaugeValue, float64(st.GaveUp))
}

// observe counts a finished request by the route pattern the mux matched (never the raw
// path, which would carry tokens and make unbounded label values); accessLog calls it.
func (m *metrics) observe(route string, code int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(took.Seconds())
}

// observeSearch records a search's latency since start; a no-op without metrics.
func (m *metrics) observeSearch(start time.Time) {
	if m != nil {
		m.search.Observe(time.Since(start).Seconds())
	}
}

func (s *Server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}
