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
	db, err := store.OpenURL(ctx, cfg.DatabaseURL, cfg.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The database %s is up to date.\n", db.Location())
	return nil
}

// openStore opens the configured store for a command and refuses a PostgreSQL schema older
// than this binary: migrations there are applied only by `helpportal migrate`, so that
// instances starting together never race to change the schema.
func openStore(ctx context.Context, cfg *config.Config) (*store.DB, error) {
	db, err := store.OpenURL(ctx, cfg.DatabaseURL, cfg.DatabasePath())
	if err != nil {
		return nil, err
	}
	ok, err := db.SchemaCurrent(ctx)
	if err == nil && !ok {
		err = fmt.Errorf("the database schema at %s is older than this helpportal; run `helpportal migrate` first", db.Location())
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
