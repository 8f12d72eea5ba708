package main

import (
	"context"
	"fmt"
	"io"

	"licensedesk/postgres"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return usageErrorf("migrate takes no arguments, only DATABASE_URL")
	}
	cfg, err := loadConfig(getenv, "DATABASE_URL")
	if err != nil {
		return err
	}
	from, to, err := postgres.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (was %d)\n", to, from)
	return nil
}
