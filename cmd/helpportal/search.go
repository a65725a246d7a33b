package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"helpportal/internal/config"
	"helpportal/internal/search"
	"helpportal/internal/store"
)

// indexDir is where the search index lives: derived from the store, rebuilt at will.
func indexDir(cfg *config.Config) string { return filepath.Join(cfg.Data, "index") }

// openSearch opens the search index under DATA/index and starts following the store's
// change log in the background (building the index first if there is none; until then
// searches fall back to the simple store search). stop ends the follower, flushes the
// search analytics and closes the index.
func openSearch(ctx context.Context, db *store.DB, cfg *config.Config, log *slog.Logger) (eng *search.Engine, stop func(), err error) {
	eng, err = search.Open(ctx, db, search.Options{Dir: indexDir(cfg), Language: cfg.Site.Language, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		eng.Run(bg)
		close(done)
	}()
	return eng, func() {
		cancel()
		<-done
		if err := eng.Close(); err != nil {
			log.Warn("search: closing the index", "err", err)
		}
	}, nil
}
