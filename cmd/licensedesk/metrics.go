package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"licensedesk/postgres"
)

// The business metrics this process exports beside the Temporal SDK's
// (docs/metrics.md). The workflows count operations and charges through the
// SDK's metrics handler; the counters here are this process's own events;
// the gauges describe the whole system and are read from PostgreSQL.
type processMetrics struct {
	webhooks        *prometheus.CounterVec
	mails           *prometheus.CounterVec
	slackErrors     *prometheus.CounterVec
	slackLimited    *prometheus.CounterVec
	providerErrors  prometheus.Counter
	providerLimited prometheus.Counter
}

func newProcessMetrics(reg prometheus.Registerer, db *postgres.DB, logger *slog.Logger) *processMetrics {
	m := &processMetrics{
		mails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensedesk_mails_total", Help: "Mails handed to the SMTP server (sent) or refused by it (failed, retried).",
		}, []string{"outcome"}),
		slackErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensedesk_slack_api_errors_total", Help: "Slack Web API calls that failed, by method.",
		}, []string{"method"}),
		providerErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "licensedesk_payment_provider_errors_total", Help: "Charges the payment provider did not answer (retried with the same idempotency key).",
		}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensedesk_webhook_deliveries_total", Help: "Webhook delivery attempts, by endpoint and outcome (delivered, failed).",
		}, []string{"endpoint", "outcome"}),
		slackLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "licensedesk_slack_rate_limited_total", Help: "Slack Web API calls answered 429 despite the pacing, by method (should stay 0).",
		}, []string{"method"}),
		providerLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "licensedesk_payment_provider_rate_limited_total", Help: "Payment provider calls answered 429 despite the pacing (should stay 0).",
		}),
	}
	reg.MustRegister(m.mails, m.slackErrors, m.providerErrors, m.webhooks, m.slackLimited, m.providerLimited, &gaugeCollector{db: db, logger: logger})
	return m
}

func (m *processMetrics) mailSent(err error) {
	if err != nil {
		m.mails.WithLabelValues("failed").Inc()
		return
	}
	m.mails.WithLabelValues("sent").Inc()
}

func (m *processMetrics) slackFailed(method string) { m.slackErrors.WithLabelValues(method).Inc() }

func (m *processMetrics) providerFailed() { m.providerErrors.Inc() }

func (m *processMetrics) webhookAttempted(endpoint string, delivered bool) {
	outcome := "failed"
	if delivered {
		outcome = "delivered"
	}
	m.webhooks.WithLabelValues(endpoint, outcome).Inc()
}

func (m *processMetrics) slackRateLimited(method string) {
	m.slackLimited.WithLabelValues(method).Inc()
}

func (m *processMetrics) providerRateLimited() { m.providerLimited.Inc() }

var (
	descWaiting = prometheus.NewDesc("licensedesk_operations_waiting",
		"Operations waiting on a person (a live emailed link), by kind.", []string{"kind"}, nil)
	descOverdue = prometheus.NewDesc("licensedesk_operations_overdue",
		"Operations still waiting on a person more than 5 minutes after their step's deadline (should be 0).", []string{"kind"}, nil)
	descPastDue   = prometheus.NewDesc("licensedesk_invoices_past_due", "Unpaid invoices past their due date.", nil, nil)
	descSuspended = prometheus.NewDesc("licensedesk_licences_suspended", "Licences suspended for an unpaid invoice.", nil, nil)
	descLicPast   = prometheus.NewDesc("licensedesk_licences_past_due", "Licences past due.", nil, nil)

	descWebhookRecorded = prometheus.NewDesc("licensedesk_webhook_events_recorded_total",
		"Webhook events recorded (in the transactions of the changes they tell of).", nil, nil)
	descWebhookBacklog = prometheus.NewDesc("licensedesk_webhook_backlog",
		"Webhook events waiting to be delivered, by endpoint.", []string{"endpoint"}, nil)
	descWebhookAge = prometheus.NewDesc("licensedesk_webhook_backlog_age_seconds",
		"Age of the oldest webhook event waiting to be delivered, by endpoint (0: none waits).", []string{"endpoint"}, nil)
	descWebhookDisabled = prometheus.NewDesc("licensedesk_webhook_endpoints_disabled",
		"Webhook endpoints disabled (by ops, or after 3 days of failed deliveries).", nil, nil)
)

// gaugeCollector reads postgres.Gauges at scrape time, at most every 15
// s (several scrapers, or several replicas, cost one read each period).
type gaugeCollector struct {
	db     *postgres.DB
	logger *slog.Logger

	mu   sync.Mutex
	at   time.Time
	last postgres.Gauges
	hook postgres.WebhookGauges
}

func (c *gaugeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWaiting, descOverdue, descPastDue, descSuspended, descLicPast,
		descWebhookRecorded, descWebhookBacklog, descWebhookAge, descWebhookDisabled} {
		ch <- d
	}
}

func (c *gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if time.Since(c.at) > 15*time.Second { //clock:wall caches a gauge read
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		g, err := c.db.ReadGauges(ctx)
		cancel()
		if err == nil {
			ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
			c.hook, err = c.db.ReadWebhookGauges(ctx)
			cancel()
		}
		if err != nil {
			c.logger.Warn("metrics: reading the gauges failed", "err", err)
		} else {
			c.last, c.at = g, time.Now() //clock:wall caches a gauge read
		}
	}
	g, h := c.last, c.hook
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descWebhookRecorded, prometheus.CounterValue, float64(h.Recorded))
	ch <- prometheus.MustNewConstMetric(descWebhookDisabled, prometheus.GaugeValue, float64(h.Disabled))
	for ep, n := range h.Backlog {
		ch <- prometheus.MustNewConstMetric(descWebhookBacklog, prometheus.GaugeValue, float64(n), ep)
		ch <- prometheus.MustNewConstMetric(descWebhookAge, prometheus.GaugeValue, h.Age[ep], ep)
	}
	for kind, n := range g.Waiting {
		ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(n), kind)
	}
	for kind, n := range g.Overdue {
		ch <- prometheus.MustNewConstMetric(descOverdue, prometheus.GaugeValue, float64(n), kind)
	}
	ch <- prometheus.MustNewConstMetric(descPastDue, prometheus.GaugeValue, float64(g.InvoicesPastDue))
	ch <- prometheus.MustNewConstMetric(descSuspended, prometheus.GaugeValue, float64(g.LicencesSuspended))
	ch <- prometheus.MustNewConstMetric(descLicPast, prometheus.GaugeValue, float64(g.LicencesPastDue))
}
