package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"licensedesk/devstack"
	"licensedesk/workflows"
)

// The cluster's Temporal is the server production runs (devstack's
// TemporalCluster): built from the version temporal-server.mod pins, on the
// cluster's PostgreSQL for persistence and visibility, its schema installed
// and upgraded by the server's SQL tool, the frontend, history, matching
// and internal worker services each a process of its own, and the
// namespace and search attributes registered through the operator API.

// clusterHistoryShards is the cluster's number of history shards: more than
// one, so shards move between owners as in production, few enough for two
// cores. Fixed for the life of a data dir (the server refuses a change).
const clusterHistoryShards = 4

func (c *cluster) startTemporal(ctx context.Context) error {
	start := time.Now()
	t, err := devstack.StartTemporalCluster(ctx, devstack.TemporalClusterOptions{
		Tools: c.temporalTools, Dir: filepath.Join(c.dir, "temporal"), PostgresURL: c.pg.URL("postgres"),
		Namespace: "default", SearchAttributes: workflows.SearchAttributeDefinitions,
		HistoryShards: clusterHistoryShards, Port: c.temporalPort, Log: c.log,
	})
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	c.temporal, c.temporalStartup = t, time.Since(start)
	return nil
}

// restartTemporalService kill -9s one Temporal service and starts it again,
// returning once it reports SERVING (history: once it holds its shards).
func (c *cluster) restartTemporalService(ctx context.Context, name string) error {
	if err := c.temporal.Restart(ctx, name); err != nil {
		return fmt.Errorf("restart Temporal %s: %w", name, err)
	}
	return nil
}

// temporalRSS lists each Temporal service's resident memory, e.g.
// "frontend 80 MiB, history 95 MiB, ...; 330 MiB in all".
func (c *cluster) temporalRSS() string {
	var parts []string
	total := 0.0
	for _, name := range devstack.TemporalServices {
		mib := rssMiB(c.temporal.Service(name).PID())
		total += mib
		parts = append(parts, fmt.Sprintf("%s %.0f MiB", name, mib))
	}
	return fmt.Sprintf("%s; %.0f MiB in all", strings.Join(parts, ", "), total)
}
