package store

import (
	"fmt"
	"testing"

	"helpportal"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestTranslatePostgresCodes(t *testing.T) {
	for code, want := range map[string]string{
		"23505": helpportal.ECONFLICT,
		"23503": helpportal.ECONFLICT,
		"40001": helpportal.EUNAVAILABLE,
		"40P01": helpportal.EUNAVAILABLE,
		"57P01": helpportal.EUNAVAILABLE,
		"08006": helpportal.EUNAVAILABLE,
		"42601": helpportal.EINTERNAL, // a syntax error is our bug, not the user's
	} {
		err := translate(fmt.Errorf("exec: %w", &pgconn.PgError{Code: code, Message: "whatever the server says"}))
		if got := helpportal.ErrorCode(err); got != want {
			t.Errorf("%s → %s, want %s", code, got, want)
		}
	}
	if got := helpportal.ErrorMessage(translate(&pgconn.PgError{Code: "23505"})); got != "That value is already taken." {
		t.Errorf("unique violation message = %q", got)
	}
}
