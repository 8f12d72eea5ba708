// Package worker runs licensedesk's Temporal worker: the process that
// executes workflows and activities, with every one registered.
package worker

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"licensedesk/activities"
	"licensedesk/workflows"
)

// New builds the worker polling taskQueue with every workflow and activity
// registered. Start it with Run(interruptCh) or Start/Stop.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		// On shutdown, let running activities finish (deployments give the
		// pod 60 s); workflow tasks are simply picked up by another worker.
		WorkerStopTimeout:                50 * time.Second,
		MaxConcurrentWorkflowTaskPollers: 8,
	})
	for _, wf := range workflows.All {
		w.RegisterWorkflow(wf)
	}
	w.RegisterActivity(acts)
	return w
}

// Run runs w until ctx ends, then stops it (waiting for running activities
// up to the worker's stop timeout).
func Run(ctx context.Context, w sdkworker.Worker) error {
	stop := make(chan any)
	go func() { <-ctx.Done(); close(stop) }()
	return w.Run(stop)
}
