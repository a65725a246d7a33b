package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"helpportal"
	"helpportal/internal/config"
	"helpportal/internal/store"
)

const copySynopsis = `copy --from URL --to URL

Copies a whole portal from one store to another: SQLite to PostgreSQL, PostgreSQL to
SQLite, or SQLite to SQLite. Each of --from and --to is a postgres:// URL or a SQLite
database file (or a data folder holding helpportal.db). The source is read in one
snapshot, so it may keep serving. The destination is created (SQLite) or migrated
(PostgreSQL, as helpportal migrate does) and must hold no portal data; it is written
in one transaction, so a failed copy leaves it as it was. The search index is not
copied: serve builds it on its next start.`

func cmdCopy(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var from, to string
	fs := newFlagSet("copy", copySynopsis, stderr)
	fs.StringVar(&from, "from", "", "the portal to copy: postgres://… or a SQLite file")
	fs.StringVar(&to, "to", "", "where to copy it: postgres://… or a SQLite file (created if missing); must hold no portal data")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if _, err := config.FromEnv(fs); err != nil {
		return err
	}
	usageError := func(msg string) error {
		fmt.Fprintf(stderr, "helpportal copy: %s\n", msg)
		fs.Usage()
		return errUsage
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	case from == "" || to == "":
		return usageError("both --from and --to are needed")
	}
	src, err := resolveStore("--from", from)
	if err != nil {
		return err
	}
	dst, err := resolveStore("--to", to)
	if err != nil {
		return err
	}
	if src.same(dst) {
		return usageError("--from and --to name the same database")
	}
	if src.path != "" {
		if _, err := os.Stat(src.path); errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("--from: there is no SQLite database at %s", src.path)
		}
	}

	from1, err := src.open(ctx)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer from1.Close()
	ok, err := from1.SchemaCurrent(ctx)
	if err == nil && !ok {
		err = fmt.Errorf("the database schema at %s is older than this helpportal; run `helpportal migrate` on it first", from1.Location())
	}
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	created := dst.path != "" && !exists(dst.path)
	to1, err := dst.open(ctx)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer func() {
		to1.Close()
		if created && err != nil { // leave no empty database behind a failed copy
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(dst.path + suffix) // -wal and -shm may not exist
			}
		}
	}()
	if to1.Location() == from1.Location() {
		return usageError("--from and --to name the same database (" + from1.Location() + ")")
	}
	// Refuse a full destination before changing its schema, then migrate it as `helpportal
	// migrate` does (SQLite was migrated on opening). CopyTo checks again in its transaction.
	if err = to1.CheckEmpty(ctx); err != nil {
		return storeError(err)
	}
	if err = to1.Migrate(ctx); err != nil {
		return fmt.Errorf("--to: migrate %s: %w", to1.Location(), err)
	}
	rep, err := from1.CopyTo(ctx, to1)
	if err != nil {
		return storeError(err)
	}
	fmt.Fprintf(stdout, "Copied %s to %s: %d rows in %s.\n", from1.Location(), to1.Location(), rep.Rows, rep.Took.Round(time.Millisecond))
	width := 0
	for _, t := range rep.Tables {
		width = max(width, len(t.Table))
	}
	for _, t := range rep.Tables {
		fmt.Fprintf(stdout, "  %-*s %8d\n", width, t.Table, t.Rows)
	}
	fmt.Fprintln(stdout, "The search index is not copied: it is derived from the store, and `helpportal serve` builds it on its next start.")
	if dst.path != "" {
		if idx := filepath.Join(filepath.Dir(dst.path), "index"); exists(idx) {
			fmt.Fprintf(stdout, "%s holds an index of another portal: run `helpportal reindex --data %s` (or remove it) before serving.\n", idx, filepath.Dir(dst.path))
		}
	}
	return nil
}

// storeError shows a store's explanation (a full destination, a schema mismatch) as it is.
func storeError(err error) error {
	switch helpportal.ErrorCode(err) {
	case helpportal.EINVALID, helpportal.ECONFLICT:
		return errors.New(strings.TrimSuffix(helpportal.ErrorMessage(err), "."))
	}
	return err
}

// storeRef is one side of a copy: a PostgreSQL URL or a SQLite file.
type storeRef struct {
	url  string // postgres://…, or empty for SQLite
	path string // the SQLite file, absolute
}

// resolveStore reads a --from or --to value: a postgres:// URL, or a SQLite file, or a
// data folder holding one (an existing folder, or a path ending in a slash).
func resolveStore(flagName, v string) (storeRef, error) {
	if strings.Contains(v, "://") {
		scheme, _, _ := strings.Cut(v, "://")
		if scheme != "postgres" && scheme != "postgresql" {
			return storeRef{}, fmt.Errorf("%s must be a postgres:// URL or a SQLite file (it starts with %s://)", flagName, scheme)
		}
		return storeRef{url: v}, nil
	}
	path := v
	if info, err := os.Stat(v); (err == nil && info.IsDir()) || strings.HasSuffix(v, string(filepath.Separator)) {
		path = filepath.Join(v, "helpportal.db")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return storeRef{}, fmt.Errorf("%s: %w", flagName, err)
	}
	return storeRef{path: abs}, nil
}

func (r storeRef) open(ctx context.Context) (*store.DB, error) {
	return store.OpenURL(ctx, r.url, r.path)
}

// same reports whether two references surely name one store; two URLs that differ only in
// spelling are caught after opening, by location.
func (r storeRef) same(o storeRef) bool {
	if r.url != "" || o.url != "" {
		return r.url == o.url
	}
	if r.path == o.path {
		return true
	}
	a, errA := os.Stat(r.path)
	b, errB := os.Stat(o.path)
	return errA == nil && errB == nil && os.SameFile(a, b)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
