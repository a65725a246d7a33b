package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"helpportal/internal/mdfolder"
)

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, dir, err := parseStoreCmd("import", "import [flags] DIR\n\nImports a Markdown folder: one .md file per article, folders as categories.\nRe-importing updates articles by slug. Bad files are reported by path; the rest are imported.", "folder", args, stderr, nil)
	if err != nil {
		return err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	rep, err := mdfolder.Import(ctx, db, os.DirFS(dir))
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stderr, "%s: %s\n", p.Path, p.Reason)
	}
	fmt.Fprintf(stdout, "Imported %d articles in %d categories from %s in %s", rep.Articles, rep.Categories, dir, time.Since(start).Round(time.Millisecond))
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stdout, "; %d files had problems (listed above)\n", len(rep.Problems))
		return exitError{1}
	}
	fmt.Fprintln(stdout, ".")
	return nil
}
