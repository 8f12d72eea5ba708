package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// temporalRole is the PostgreSQL role the cluster runs as; it owns the
// cluster's two databases and is no superuser.
const temporalRole = "temporal"

// temporalSchemas are the cluster's databases and the schema, embedded in
// the SQL tool, each is installed and upgraded from.
var temporalSchemas = []struct{ db, schema string }{
	{"temporal", "postgresql/v12/temporal"},
	{"temporal_visibility", "postgresql/v12/visibility"},
}

// prepareTemporalDatabases gives the cluster its role (with a new password
// each start), then for each database does what a deployment's schema job
// does with the server's SQL tool: create-database and setup-schema -v 0.0
// the first time, update-schema to the newest version the tool embeds
// every time (a no-op when it is current, an upgrade after the pinned
// server version moves).
func prepareTemporalDatabases(ctx context.Context, opts TemporalClusterOptions) (temporalDB, error) {
	db, err := parsePostgresURL(opts.PostgresURL)
	if err != nil {
		return db, err
	}
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)
	db.user, db.password = temporalRole, hex.EncodeToString(secret)
	if err := ensureTemporalRole(ctx, opts.PostgresURL, db.password); err != nil {
		return db, err
	}
	for _, s := range temporalSchemas {
		exists, versioned, err := databaseState(ctx, opts.PostgresURL, s.db)
		if err != nil {
			return db, err
		}
		if !exists {
			if err := runSQLTool(ctx, opts.Tools.SQLTool, db, s.db, "create-database"); err != nil {
				return db, err
			}
		}
		if !versioned {
			if err := runSQLTool(ctx, opts.Tools.SQLTool, db, s.db, "setup-schema", "-v", "0.0"); err != nil {
				return db, err
			}
		}
		if err := runSQLTool(ctx, opts.Tools.SQLTool, db, s.db, "update-schema", "--schema-name", s.schema); err != nil {
			return db, err
		}
	}
	return db, nil
}

// ensureTemporalRole creates the role (allowed to create databases, as the
// SQL tool's create-database needs) or sets its password.
func ensureTemporalRole(ctx context.Context, superuserURL, password string) error {
	conn, err := pgx.Connect(ctx, superuserURL)
	if err != nil {
		return fmt.Errorf("temporal: connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, temporalRole).Scan(&exists); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	// A password cannot be a parameter of CREATE/ALTER ROLE; this one is hex.
	verb := "ALTER"
	if !exists {
		verb = "CREATE"
	}
	q := fmt.Sprintf(`%s ROLE %s LOGIN CREATEDB PASSWORD '%s'`, verb, pgx.Identifier{temporalRole}.Sanitize(), password)
	if _, err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("temporal: %s ROLE %s: %w", verb, temporalRole, err)
	}
	return nil
}

// databaseState says whether database name exists and whether the SQL
// tool's version table is in it.
func databaseState(ctx context.Context, superuserURL, name string) (exists, versioned bool, err error) {
	conn, err := pgx.Connect(ctx, superuserURL)
	if err != nil {
		return false, false, fmt.Errorf("temporal: connecting to PostgreSQL: %w", err)
	}
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	conn.Close(context.WithoutCancel(ctx))
	if err != nil || !exists {
		return exists, false, err
	}
	cfg, err := pgx.ParseConfig(superuserURL)
	if err != nil {
		return true, false, err
	}
	cfg.Database = name
	dbConn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return true, false, fmt.Errorf("temporal: connecting to %s: %w", name, err)
	}
	defer dbConn.Close(context.WithoutCancel(ctx))
	err = dbConn.QueryRow(ctx, `SELECT to_regclass('schema_version') IS NOT NULL`).Scan(&versioned)
	return true, versioned, err
}

// runSQLTool runs temporal-sql-tool on database name as the cluster's
// role; the connection settings go in its environment, so the password is
// never on a command line.
func runSQLTool(ctx context.Context, bin string, db temporalDB, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SQL_PLUGIN=postgres12", "SQL_HOST="+db.host, "SQL_PORT="+strconv.Itoa(db.port),
		"SQL_USER="+db.user, "SQL_PASSWORD="+db.password, "SQL_DATABASE="+name)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("temporal-sql-tool %s (database %s): %v\n%s", strings.Join(args, " "), name, err, out)
	}
	return nil
}

// checkServing asks a service's gRPC health endpoint about service name.
func checkServing(ctx context.Context, addr, name string) error {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{Service: name})
	if err != nil {
		return err
	}
	if resp.Status != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s: %s", name, resp.Status)
	}
	return nil
}

// namespaceRetention is how long the cluster keeps a closed workflow's
// history.
const namespaceRetention = 7 * 24 * time.Hour

// registerNamespace registers the namespace (unless it exists) and its
// custom search attributes through the operator API, as a deployment's
// setup job does, and returns once the frontend accepts a visibility query
// naming every one of them.
func registerNamespace(ctx context.Context, addr, namespace string, defs []string) error {
	c, err := client.Dial(client.Options{HostPort: addr, Namespace: namespace, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer c.Close()
	attrs := map[string]enumspb.IndexedValueType{}
	var names []string
	for _, d := range defs {
		name, typ, ok := strings.Cut(d, "=")
		t, err := enumspb.IndexedValueTypeFromString(typ)
		if !ok || err != nil {
			return fmt.Errorf("search attribute %q: want Name=Type", d)
		}
		attrs[name] = t
		names = append(names, name)
	}
	err = retryFor(ctx, time.Minute, func(ctx context.Context) error {
		_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: namespace, WorkflowExecutionRetentionPeriod: durationpb.New(namespaceRetention)})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(attrs) == 0 {
		return nil
	}
	err = retryFor(ctx, time.Minute, func(ctx context.Context) error {
		// Idempotent: the server skips those the namespace has.
		_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: namespace, SearchAttributes: attrs})
		return err
	})
	if err != nil {
		return err
	}
	query := ""
	for i, n := range names {
		if i > 0 {
			query += " AND "
		}
		query += n + ` = "probe"`
	}
	return retryFor(ctx, time.Minute, func(ctx context.Context) error {
		_, err := c.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		return err
	})
}

// retryFor calls f until it succeeds or limit passes.
func retryFor(ctx context.Context, limit time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(limit) //clock:wall waits for a process
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := f(cctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil { //clock:wall waits for a process
			return errors.Join(err, ctx.Err())
		}
		time.Sleep(250 * time.Millisecond)
	}
}
