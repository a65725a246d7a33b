package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"helpportal"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The messages both dialects give for the same failure.
var (
	errTaken     = helpportal.Errorf(helpportal.ECONFLICT, "That value is already taken.")
	errReference = helpportal.Errorf(helpportal.ECONFLICT, "The change refers to something that does not exist or is still in use.")
	errBusy      = helpportal.Errorf(helpportal.EUNAVAILABLE, "The store is busy; please try again.")
	errDown      = helpportal.Errorf(helpportal.EUNAVAILABLE, "The database cannot be reached; please try again shortly.")
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
			return errTaken
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errReference
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errBusy
		}
	}
	var perr *pgconn.PgError
	if errors.As(err, &perr) {
		switch code := perr.Code; {
		case code == "23505": // unique_violation
			return errTaken
		case code == "23503": // foreign_key_violation
			return errReference
		case code == "40001", code == "40P01": // serialization_failure, deadlock_detected: retry
			return wrapped(errBusy, err)
		case strings.HasPrefix(code, "08"), // connection_exception
			code == "57P01", code == "57P02", code == "57P03", // shut down, crashed, starting up
			code == "53300": // too_many_connections
			return wrapped(errDown, err)
		}
	}
	if connectionLost(err) {
		return wrapped(errDown, err)
	}
	return fmt.Errorf("store: %w", err)
}

// wrapped keeps the driver's error beside the user-facing one, for the logs.
func wrapped(herr *helpportal.Error, err error) error { return fmt.Errorf("%w: %w", herr, err) }

// connectionLost reports a failure to reach the server or a connection lost mid-statement:
// the request may be retried once the database answers again.
func connectionLost(err error) bool {
	var cerr *pgconn.ConnectError
	var nerr net.Error
	return errors.As(err, &cerr) || errors.As(err, &nerr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// connectError turns a failure to connect at start into one line that names the problem:
// the host that cannot be reached, the credentials refused, the database missing.
func connectError(cfg *pgx.ConnConfig, err error) error {
	where := fmt.Sprintf("PostgreSQL at %s:%d (database %q, user %q)", cfg.Host, cfg.Port, cfg.Database, cfg.User)
	var perr *pgconn.PgError
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &perr):
		switch perr.Code {
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return fmt.Errorf("%s refused the credentials: %s", where, perr.Message)
		case "3D000": // invalid_catalog_name
			return fmt.Errorf("%s: the database %q does not exist (create it, or fix the URL)", where, cfg.Database)
		}
		return fmt.Errorf("%s: %s (SQLSTATE %s)", where, perr.Message, perr.Code)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot connect to %s: the host name %q does not resolve", where, dnsErr.Name)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return fmt.Errorf("cannot connect to %s: timed out", where)
	case errors.As(err, &opErr):
		return fmt.Errorf("cannot connect to %s: %v", where, opErr.Err)
	}
	return fmt.Errorf("cannot connect to %s: %w", where, err)
}
