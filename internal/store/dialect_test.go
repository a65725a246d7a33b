package store

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b IN (?, ?)`, `a = $1 AND b IN ($2, $3)`},
		{`x = '?' AND y = ? -- why?` + "\n" + `AND z = ?`, `x = '?' AND y = $1 -- why?` + "\n" + `AND z = $2`},
		{`'it''s ?' || ? /* ? */ "q?" ?`, `'it''s ?' || $1 /* ? */ "q?" $2`},
		{`? ? ? ? ? ? ? ? ? ? ?`, `$1 $2 $3 $4 $5 $6 $7 $8 $9 $10 $11`},
		{`'unterminated ?`, `'unterminated ?`},
	} {
		if got := rebind(tc.in); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func BenchmarkRebind(b *testing.B) {
	q := `SELECT ` + articleCols + ` FROM articles a JOIN categories c ON c.id = a.category_id
		WHERE a.slug = ? AND a.status = ? AND a.visibility IN (?, ?, ?)`
	b.ReportAllocs()
	for b.Loop() {
		rebind(q)
	}
}
