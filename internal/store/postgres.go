package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Pool defaults for PostgreSQL. Sixteen connections keep a 2–4 core instance busy (most
// requests hold one for well under a millisecond) while leaving room for several instances
// under PostgreSQL's default max_connections of 100.
const (
	defaultMaxConns        = 16
	defaultConnMaxIdleTime = 5 * time.Minute
	// Connections are renewed hourly so that, after a failover or a configuration change,
	// every instance ends up on fresh sessions without a restart.
	defaultConnMaxLifetime = time.Hour
)

// openPostgres opens the pool for a postgres:// URL. It does not migrate: on PostgreSQL,
// schema changes are an explicit step (`helpportal migrate`), because many instances share
// one database and an old binary must not start on a newer schema or the other way round.
//
// Besides everything pgx understands in the URL (sslmode, connect_timeout, search_path and
// any other run-time parameter, default_query_exec_mode, statement_cache_capacity…), these
// pool settings are read from it, named as pgxpool names them:
//
//	pool_max_conns           open and idle connections (default 16)
//	pool_max_conn_idle_time  close a connection idle this long (default 5m)
//	pool_max_conn_lifetime   renew connections this old (default 1h)
func openPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return nil, errors.New("the database URL is not a valid URL") // the text may hold a password: not repeated
	}
	q := u.Query()
	maxConns, idle, life := defaultMaxConns, defaultConnMaxIdleTime, defaultConnMaxLifetime
	for name, vals := range q {
		v := vals[len(vals)-1]
		switch name {
		case "pool_max_conns":
			if maxConns, err = strconv.Atoi(v); err != nil || maxConns < 1 {
				return nil, fmt.Errorf("database URL: pool_max_conns=%q must be a whole number of at least 1", v)
			}
		case "pool_max_conn_idle_time":
			if idle, err = time.ParseDuration(v); err != nil || idle < 0 {
				return nil, fmt.Errorf("database URL: pool_max_conn_idle_time=%q must be a duration such as 5m", v)
			}
		case "pool_max_conn_lifetime":
			if life, err = time.ParseDuration(v); err != nil || life < 0 {
				return nil, fmt.Errorf("database URL: pool_max_conn_lifetime=%q must be a duration such as 1h", v)
			}
		default:
			if len(name) > 5 && name[:5] == "pool_" {
				// pgx would send it to the server as a setting, which fails with a puzzling error.
				return nil, fmt.Errorf("database URL: %s is not supported (use pool_max_conns, pool_max_conn_idle_time, pool_max_conn_lifetime)", name)
			}
			continue
		}
		q.Del(name)
	}
	u.RawQuery = q.Encode()
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err) // pgx masks the password in its errors
	}
	pool := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	pool.SetMaxOpenConns(maxConns)
	pool.SetMaxIdleConns(maxConns)
	pool.SetConnMaxIdleTime(idle)
	pool.SetConnMaxLifetime(life)
	// One pool serves reads and writes: PostgreSQL runs writers side by side, so the
	// one-writer pool SQLite needs would only queue them.
	db := &DB{read: pool, write: pool, dialect: postgresDialect, now: time.Now, pgConfig: cfg,
		location: fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)}
	var schema sql.NullString
	if err := pool.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, connectError(cfg, err)
	}
	if !schema.Valid {
		pool.Close()
		return nil, fmt.Errorf("%s: no schema of the search_path exists (create it, or fix search_path in the URL)", db.location)
	}
	db.schema = schema.String
	db.location += " schema " + schema.String
	current, err := db.SchemaCurrent(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if current { // else the caller migrates, or refuses to serve
		if _, err := db.PollChanges(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return db, nil
}

// lockKey names an advisory lock within this database's schema: two portals in two schemas
// of one database never wait for each other.
func (db *DB) lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("helpportal\x00" + db.schema + "\x00" + name))
	return int64(h.Sum64())
}

// lockName serialises, until tx ends, the transactions that lock the same name. On SQLite
// it does nothing: there, write transactions already run one at a time.
func (db *DB) lockName(ctx context.Context, tx *sql.Tx, name string) error {
	if db.dialect.lockSQL == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, db.dialect.lockSQL, db.lockKey(name))
	return err
}

// pgConnector hands out connections that speak the store's SQL: ? placeholders and Go bools.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return pgConn{conn.(*stdlib.Conn)}, nil
}

// pgConn is pgx's database/sql connection with every statement passed through rebind and
// booleans sent as 0/1: both dialects store flags as integers, as SQLite's driver does for
// a Go bool, so one schema shape and one scanning code serve both. Everything else
// (transactions, pings, session reset) is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 { // e.g. a migration: several statements, maybe with $$ bodies; nothing to bind
		return c.Conn.ExecContext(ctx, query, args)
	}
	return c.Conn.ExecContext(ctx, rebind(query), boolsAsInts(args))
}

func (c pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.Conn.QueryContext(ctx, query, args)
	}
	return c.Conn.QueryContext(ctx, rebind(query), boolsAsInts(args))
}

func (c pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func boolsAsInts(args []driver.NamedValue) []driver.NamedValue {
	for i, a := range args {
		if b, ok := a.Value.(bool); ok {
			args[i].Value = boolInt(b) // database/sql built this slice for this call alone
		}
	}
	return args
}
