package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"helpportal"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate maps driver errors to the domain vocabulary by error code, never by message.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var herr *helpportal.Error
	if errors.As(err, &herr) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return helpportal.Errorf(helpportal.ENOTFOUND, "Not found.")
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch serr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return helpportal.Errorf(helpportal.ECONFLICT, "That value is already taken.")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return helpportal.Errorf(helpportal.ECONFLICT, "The change refers to something that does not exist or is still in use.")
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return helpportal.Errorf(helpportal.EUNAVAILABLE, "The store is busy; please try again.")
		}
	}
	return fmt.Errorf("store: %w", err)
}
