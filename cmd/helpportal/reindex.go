package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"helpportal/internal/config"
	"helpportal/internal/search"
)

func cmdReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs := newFlagSet("reindex", "reindex [flags]\n\nRebuilds the search index from the store beside the live one, then swaps it in.\n"+
		"A server running on the same data folder keeps answering meanwhile and switches to the new index within a second.", stderr)
	cfg.StoreFlags(fs)
	var language string
	fs.StringVar(&language, "language", "", "the content's language (BCP 47), which picks the stemmer; default: the live index's, else en")
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	db, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := search.Rebuild(ctx, db, indexDir(&cfg), language, log); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Rebuilt the search index in %s (%s).\n", indexDir(&cfg), time.Since(start).Round(time.Millisecond))
	return nil
}
