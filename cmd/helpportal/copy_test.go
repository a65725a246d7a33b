package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helpportal"
	"helpportal/internal/config"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// copyCmd runs `helpportal copy` in-process and returns its exit status and output.
func copyCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"copy"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// seededStore makes a SQLite portal as the first `serve` leaves it: the demo content, its
// announcements and settings.
func seededStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "helpportal.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := firstStart(context.Background(), db, &config.Config{}, io.Discard); err != nil {
		t.Fatal(err)
	}
	return path
}

// articleSlugs reads a store's articles as the portal shows them to staff.
func articleSlugs(t *testing.T, dbURL, path string) []string {
	t.Helper()
	db, err := store.OpenURL(context.Background(), dbURL, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, _, err := db.Articles(context.Background(), helpportal.ArticleFilter{Viewer: helpportal.Viewer{Role: helpportal.RoleAdmin}, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	slugs := make([]string, len(list))
	for i, a := range list {
		slugs[i] = a.Slug + "@" + a.UpdatedAt.String()
	}
	return slugs
}

func TestCopyCommandSQLite(t *testing.T) {
	src := seededStore(t)
	want := articleSlugs(t, "", src)
	dir := t.TempDir()
	// A data folder as --to: the database lands in it as helpportal.db.
	code, out, errOut := copyCmd(t, "--from", src, "--to", dir)
	if code != 0 {
		t.Fatalf("copy = %d\n%s%s", code, out, errOut)
	}
	for _, s := range []string{"Copied " + src + " to " + filepath.Join(dir, "helpportal.db"), "  articles ", "  search_pins ", "The search index is not copied"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if got := articleSlugs(t, "", filepath.Join(dir, "helpportal.db")); strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) < 10 {
		t.Errorf("copied articles differ: %d, want %d", len(got), len(want))
	}

	// Again into the same folder: refused in one line naming a table, exit 1.
	code, out, errOut = copyCmd(t, "--from", src, "--to", dir)
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "helpportal copy: "+filepath.Join(dir, "helpportal.db")+" already holds portal data (table categories has") {
		t.Errorf("copy into a full store = %d\n%s%s", code, out, errOut)
	}

	// An index beside the destination belongs to another portal: the output says so.
	other := t.TempDir()
	if err := os.Mkdir(filepath.Join(other, "index"), 0o750); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HELPPORTAL_FROM", src) // flags read the environment like every command's
	t.Setenv("HELPPORTAL_TO", other)
	if code, out, errOut := copyCmd(t); code != 0 || !strings.Contains(out, "helpportal reindex --data "+other) {
		t.Errorf("copy next to an old index = %d\n%s%s", code, out, errOut)
	}
}

// SQLite → PostgreSQL (an empty schema, migrated by copy) → SQLite with the command.
func TestCopyCommandPostgres(t *testing.T) {
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skipf("needs PostgreSQL: set %s", storetest.EnvURL)
	}
	src := seededStore(t)
	want := articleSlugs(t, "", src)
	pg := storetest.EmptyPostgres(t)
	if code, out, errOut := copyCmd(t, "--from", src, "--to", pg); code != 0 || !strings.Contains(out, "schema helpportal_test_") {
		t.Fatalf("copy to PostgreSQL = %d\n%s%s", code, out, errOut)
	}
	if got := articleSlugs(t, pg, ""); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("articles on PostgreSQL differ: %d, want %d", len(got), len(want))
	}
	back := filepath.Join(t.TempDir(), "back.db")
	if code, out, errOut := copyCmd(t, "--from", pg, "--to", back); code != 0 {
		t.Fatalf("copy from PostgreSQL = %d\n%s%s", code, out, errOut)
	}
	if got := articleSlugs(t, "", back); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("articles back on SQLite differ: %d, want %d", len(got), len(want))
	}
	if code, _, errOut := copyCmd(t, "--from", back, "--to", pg); code != 1 || !strings.Contains(errOut, "already holds portal data") {
		t.Errorf("copy into a full PostgreSQL schema = %d %s", code, errOut)
	}
	if code, _, errOut := copyCmd(t, "--from", pg, "--to", pg); code != 2 || !strings.Contains(errOut, "the same database") {
		t.Errorf("copy PostgreSQL onto itself = %d %s", code, errOut)
	}
}

func TestCopyCommandBadInput(t *testing.T) {
	src := seededStore(t)
	dir := t.TempDir()
	newFile := filepath.Join(dir, "new.db")
	// A source with a table copy does not know: refused, and the new destination file is
	// not left behind.
	odd := filepath.Join(t.TempDir(), "odd.db")
	db, err := store.Open(context.Background(), odd)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", odd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE plugin_data (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no flags", nil, 2, "both --from and --to are needed"},
		{"no --to", []string{"--from", src}, 2, "both --from and --to are needed"},
		{"an argument", []string{"--from", src, "--to", newFile, "extra"}, 2, `unexpected argument "extra"`},
		{"unknown flag", []string{"--form", src}, 2, "flag provided but not defined: -form"},
		{"same file", []string{"--from", src, "--to", src}, 2, "--from and --to name the same database"},
		{"same file by its folder", []string{"--from", src, "--to", filepath.Dir(src)}, 2, "--from and --to name the same database"},
		{"missing source", []string{"--from", filepath.Join(dir, "nothing.db"), "--to", newFile}, 1, "helpportal copy: --from: there is no SQLite database at " + filepath.Join(dir, "nothing.db") + "\n"},
		{"other scheme", []string{"--from", "mysql://db/portal", "--to", newFile}, 1, "helpportal copy: --from must be a postgres:// URL or a SQLite file (it starts with mysql://)\n"},
		{"unreachable", []string{"--from", src, "--to", "postgres://postgres@127.0.0.1:1/portal?connect_timeout=5"}, 1, `helpportal copy: --to: cannot connect to PostgreSQL at 127.0.0.1:1 (database "portal", user "postgres")`},
		{"bad pool setting", []string{"--from", "postgres://h/db?pool_max_conns=x", "--to", newFile}, 1, `helpportal copy: --from: database URL: pool_max_conns="x" must be a whole number`},
		{"unknown table", []string{"--from", odd, "--to", newFile}, 1, "has a table plugin_data that this helpportal does not know"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := copyCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) || out != "" {
				t.Errorf("copy %v = %d\nstdout: %s\nstderr: %s\nwant %d and %q", tc.args, code, out, errOut, tc.code, tc.msg)
			}
			if code == 1 && strings.Count(errOut, "\n") != 1 {
				t.Errorf("the error takes more than one line:\n%s", errOut)
			}
			if _, err := os.Stat(newFile); err == nil {
				t.Errorf("a failed copy left %s behind", newFile)
				os.Remove(newFile)
			}
		})
	}
}
