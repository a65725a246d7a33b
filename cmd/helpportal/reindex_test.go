package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/config"
	"helpportal/internal/search"
	"helpportal/internal/store"
)

// openSearch builds the index of an existing store in the background; `reindex`, run as
// another command while it serves, swaps a rebuilt index in without stopping it.
func TestOpenSearchAndReindex(t *testing.T) {
	ctx := context.Background()
	cfg := &config.Config{Data: t.TempDir()}
	cfg.Site.Language = "en"
	db, err := store.Open(ctx, cfg.DatabasePath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := &helpportal.Category{Slug: "hosting", Name: "Hosting"}
	if err := db.SaveCategory(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveArticle(ctx, &helpportal.Article{Slug: "ssh-keys", Title: "Add an SSH key", CategoryID: c.ID, Body: "Paste the public key."}); err != nil {
		t.Fatal(err)
	}
	eng, stop, err := openSearch(ctx, db, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	find := func(q string) int {
		res, err := eng.Search(ctx, search.Request{Query: q, Viewer: helpportal.Anonymous})
		if err != nil {
			return -1
		}
		return len(res.Hits)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the first build", func() bool { return find("ssh") == 1 })
	before := eng.Stats().Index

	var out, errOut bytes.Buffer
	if err := cmdReindex(ctx, []string{"--data", cfg.Data}, &out, &errOut); err != nil {
		t.Fatalf("reindex: %v\n%s", err, errOut.String())
	}
	waitFor("the swap", func() bool { return eng.Stats().Index != before })
	if find("ssh key") != 1 {
		t.Error("nothing found after the swap")
	}
	// The server closes and removes the old generation just after switching.
	waitFor("the old index to be removed", func() bool {
		entries, _ := os.ReadDir(filepath.Join(cfg.Data, "index"))
		gens := 0
		for _, e := range entries {
			if e.IsDir() {
				gens++
			}
		}
		return gens == 1
	})
	// Writes keep flowing into the swapped-in index.
	if err := db.SaveArticle(ctx, &helpportal.Article{Slug: "sftp", Title: "Connect with SFTP", CategoryID: c.ID, Body: "Port 22."}); err != nil {
		t.Fatal(err)
	}
	waitFor("the new article", func() bool { return find("sftp") == 1 })
}
