package browsertest

import (
	"os"
	"path/filepath"
	"testing"
)

// findTool must look from the working directory up to the module root and no further, so
// a checkout never picks up another project's tools.
func TestFindTool(t *testing.T) {
	const rel = ".ci/tools/node_modules/axe-core/axe.min.js"
	root := t.TempDir()
	mod := filepath.Join(root, "mod")
	for _, p := range []string{filepath.Join(root, rel), filepath.Join(mod, "go.mod"), filepath.Join(mod, "a", "b", "x.go")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HELPPORTAL_AXE_JS", "")
	t.Chdir(filepath.Join(mod, "a", "b"))
	if got := findTool("HELPPORTAL_AXE_JS", rel); got != "" {
		t.Errorf("found %s above the module root", got)
	}
	want := filepath.Join(mod, rel)
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := findTool("HELPPORTAL_AXE_JS", rel); got != want {
		t.Errorf("findTool = %q, want %q", got, want)
	}
	t.Setenv("HELPPORTAL_AXE_JS", filepath.Join(root, "missing.js"))
	if got := findTool("HELPPORTAL_AXE_JS", rel); got != "" {
		t.Errorf("a missing $HELPPORTAL_AXE_JS gave %q, want none", got)
	}
}
