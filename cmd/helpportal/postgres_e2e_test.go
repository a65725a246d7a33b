package main_test

import (
	"os"
	"strings"
	"testing"

	"helpportal/internal/store/storetest"
)

// TestServeOnPostgres runs the binary on PostgreSQL as an operator would: serve refuses an
// unmigrated schema, migrate applies it, then serve seeds the demo and answers.
func TestServeOnPostgres(t *testing.T) {
	if os.Getenv("HELPPORTAL_TEST_DATABASE_URL") == "" {
		t.Skip("PostgreSQL tests skipped: set HELPPORTAL_TEST_DATABASE_URL=postgres://… to run them")
	}
	dbURL := storetest.EmptyPostgres(t)
	if code, out, errOut := run(t, "serve", "--database-url", dbURL, "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(out+errOut, "helpportal migrate") {
		t.Fatalf("serve on an empty schema = %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, "migrate", "--database-url", dbURL); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate = %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("second migrate = %d %s", code, errOut)
	}
	base, out := serve(t, "--database-url", dbURL, "--data", t.TempDir())
	if !strings.Contains(out.String(), "Seeded the demo content") {
		t.Errorf("no demo on PostgreSQL:\n%s", out)
	}
	if status, body := get(t, base+"/articles/create-or-update-your-client-area-password"); status != 200 || !strings.Contains(body, "Current password") {
		t.Errorf("article on PostgreSQL = %d", status)
	}
}
