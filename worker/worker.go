package worker

import (
	"context"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"licensedesk/activities"
)

// New builds the worker polling taskQueue with every workflow and activity
// registered. Start it with Run(interruptCh) or Start/Stop.
func New(c client.Client, taskQueue string, acts *activities.Activities) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{})
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
