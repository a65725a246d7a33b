package main

import (
	"context"
	"fmt"
	"io"

	"helpportal/internal/config"
	"helpportal/internal/store"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs := newFlagSet("migrate", "migrate [flags]\n\nApplies the database migrations that are not yet applied.", stderr)
	cfg.StoreFlags(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabasePath()) // Open applies pending migrations
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "The database %s is up to date.\n", db.Path())
	return nil
}
