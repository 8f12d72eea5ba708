package temporalclient

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"licensedesk/licensing"
	"licensedesk/operation"
	"licensedesk/workflows"
)

// TestLaunch_OptionsSayWhatASecondStartDoes: the start policy of every
// operation is two switches, and each maps onto Temporal's ID policies.
func TestLaunch_OptionsSayWhatASecondStartDoes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		join, once bool
		reuse      enums.WorkflowIdReusePolicy
		conflict   enums.WorkflowIdConflictPolicy
		errorIfRun bool
	}{
		{"a request: a run in flight is reported, a new request after it ends starts again", false, false,
			enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, enums.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, true},
		{"once: a closed run is never started again", false, true,
			enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, enums.WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED, true},
		{"join: the run in flight is the one wanted", true, false,
			enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, false},
		{"join once", true, true,
			enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := launch{ID: "move/SEN-1000001/zoe@new.test", Kind: operation.KindMove, Join: tt.join, Once: tt.once}.options("q")
			if o.ID != "move/SEN-1000001/zoe@new.test" || o.TaskQueue != "q" || o.WorkflowIDReusePolicy != tt.reuse ||
				o.WorkflowIDConflictPolicy != tt.conflict || o.WorkflowExecutionErrorWhenAlreadyStarted != tt.errorIfRun {
				t.Errorf("options = %+v", o)
			}
		})
	}
}

// TestLaunch_SearchAttributesFromTheStart: ops can find an operation by
// its kind, step, licence and people from the moment it starts; a licence
// or people it has not are left out, not set empty.
func TestLaunch_SearchAttributesFromTheStart(t *testing.T) {
	full := launch{Kind: operation.KindMove, SEN: "SEN-1000001", People: []licensing.Email{"alice@acme.test", "zoe@new.test"}}.searchAttributes()
	if v, _ := full.GetKeyword(workflows.AttrOperation); v != string(operation.KindMove) {
		t.Errorf("Operation = %q", v)
	}
	if v, _ := full.GetKeyword(workflows.AttrOperationStep); v != "starting" {
		t.Errorf("OperationStep = %q", v)
	}
	if v, _ := full.GetKeyword(workflows.AttrLicenseSEN); v != "SEN-1000001" {
		t.Errorf("LicenseSEN = %q", v)
	}
	if v, _ := full.GetKeywordList(workflows.AttrCustomerEmails); len(v) != 2 || v[1] != "zoe@new.test" {
		t.Errorf("CustomerEmails = %v", v)
	}
	bare := launch{Kind: operation.KindPasswordReset}.searchAttributes()
	if _, ok := bare.GetKeyword(workflows.AttrLicenseSEN); ok {
		t.Error("LicenseSEN set for an operation about no licence")
	}
	if _, ok := bare.GetKeywordList(workflows.AttrCustomerEmails); ok {
		t.Error("CustomerEmails set with nobody in it")
	}
}

// TestLaunch_ASecondStart: what the caller is told when a run with the ID
// exists — running, running but already done (it is sending its last
// report, so the request asked again starts afresh), or once and closed.
func TestLaunch_ASecondStart(t *testing.T) {
	l := launch{ID: "card/SEN-1000001", Kind: operation.KindCard, SEN: "SEN-1000001"}
	t.Run("a run in flight is reported, not started again", func(t *testing.T) {
		f := &fakeTemporal{running: "run-1", status: operation.Status{Done: false}}
		got, err := (&Client{Temporal: f}).launch(t.Context(), l)
		if err != nil || !got.AlreadyRunning || got.RunID != "run-1" || f.starts != 1 {
			t.Fatalf("%+v, %v after %d starts", got, err, f.starts)
		}
	})
	t.Run("a run that has done its work and closes is followed by a new one", func(t *testing.T) {
		f := &fakeTemporal{running: "run-1", status: operation.Status{Done: true}, closes: true}
		got, err := (&Client{Temporal: f}).launch(t.Context(), l)
		if err != nil || got.AlreadyRunning || got.RunID != "run-2" || f.starts != 2 {
			t.Fatalf("%+v, %v after %d starts", got, err, f.starts)
		}
	})
	t.Run("a done run that does not close in time is reported", func(t *testing.T) {
		f := &fakeTemporal{running: "run-1", status: operation.Status{Done: true}, closes: false}
		got, err := (&Client{Temporal: f}).launch(t.Context(), l)
		if err != nil || !got.AlreadyRunning || f.starts != 1 {
			t.Fatalf("%+v, %v after %d starts", got, err, f.starts)
		}
	})
	t.Run("once: never waits for the run to close, never starts twice", func(t *testing.T) {
		f := &fakeTemporal{running: "run-1", status: operation.Status{Done: true}, closes: true}
		once := l
		once.Once = true
		got, err := (&Client{Temporal: f}).launch(t.Context(), once)
		if err != nil || !got.AlreadyRunning || f.starts != 1 || f.queries != 0 {
			t.Fatalf("%+v, %v after %d starts and %d queries", got, err, f.starts, f.queries)
		}
	})
	t.Run("another error is the caller's", func(t *testing.T) {
		f := &fakeTemporal{fail: errors.New("unavailable")}
		if _, err := (&Client{Temporal: f}).launch(t.Context(), l); err == nil {
			t.Fatal("no error")
		}
	})
}

// fakeTemporal answers ExecuteWorkflow as a server would for one ID: the
// first start finds run `running` in flight (when set); once that run has
// closed (closes), a start makes run-2.
type fakeTemporal struct {
	client.Client
	running string
	status  operation.Status
	closes  bool
	fail    error
	starts  int
	queries int
	closed  bool
}

func (f *fakeTemporal) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.starts++
	if f.fail != nil {
		return nil, f.fail
	}
	if f.running != "" && !f.closed {
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("started", "", f.running)
	}
	return fakeRun{id: o.ID, runID: "run-2"}, nil
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	f.queries++
	return fakeValue{f.status}, nil
}

func (f *fakeTemporal) GetWorkflow(_ context.Context, id, runID string) client.WorkflowRun {
	return fakeRun{id: id, runID: runID, closes: f.closes, onClose: func() { f.closed = true }}
}

type fakeRun struct {
	id, runID string
	closes    bool
	onClose   func()
}

func (r fakeRun) GetID() string                  { return r.id }
func (r fakeRun) GetRunID() string               { return r.runID }
func (r fakeRun) GetFirstExecutionRunID() string { return r.runID }
func (r fakeRun) Get(ctx context.Context, _ any) error {
	if r.closes {
		r.onClose()
		return nil
	}
	<-ctx.Done() // never closes: the caller's deadline ends the wait
	return ctx.Err()
}
func (r fakeRun) GetWithOptions(ctx context.Context, v any, _ client.WorkflowRunGetOptions) error {
	return r.Get(ctx, v)
}

type fakeValue struct{ st operation.Status }

func (v fakeValue) HasValue() bool { return true }
func (v fakeValue) Get(p any) error {
	*(p.(*operation.Status)) = v.st
	return nil
}
