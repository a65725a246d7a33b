package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/config"
	"helpportal/internal/demo"
	"helpportal/internal/mail"
	"helpportal/internal/mdfolder"
	"helpportal/internal/store"
	"helpportal/internal/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs := newFlagSet("serve", "serve [flags]", stderr)
	cfg.ServeFlags(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	lw := newLogWriter(stderr)
	defer lw.Close()
	log := newLogger(cfg.LogFormat, lw)
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	config.TuneGC()
	start := time.Now()
	db, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close() // last: it also stops the change listener the followers below subscribe to
	db.SetLogger(log)
	if err := firstStart(ctx, db, &cfg, stdout); err != nil {
		return err
	}
	if _, err := siteSettings(ctx, db, &cfg, false); err != nil {
		return err
	}
	engine, stopSearch, err := openSearch(ctx, db, &cfg, log)
	if err != nil {
		return err
	}
	defer stopSearch() // before db.Close: flushes search analytics, closes the index
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running there? choose one with --addr)", cfg.Addr, err)
	}
	if cfg.BaseURLDerived { // --addr may have asked for any free port
		cfg.BaseURL = "http://" + ln.Addr().String()
		cfg.Site.BaseURL = cfg.BaseURL
	}
	// Commands run beside the server (user invite) build their links from this.
	if err := db.SetMeta(ctx, "site.base_url", cfg.BaseURL); err != nil {
		ln.Close()
		return err
	}
	sender, err := mailSender(&cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	mailer := mail.NewWorker(db, sender, mail.WorkerConfig{From: cfg.MailFrom, Lease: cfg.MailLease}, log)
	// Argon2id is CPU-bound for tens of milliseconds and takes 19 MiB: hashing on all but
	// one core keeps a flood of sign-ins from starving page views, and a short queue turns
	// the rest of the flood into 429s instead of memory.
	hasher := auth.NewHasher(auth.DefaultParams(), max(1, runtime.GOMAXPROCS(0)-1), 32)
	srv, err := web.New(web.Config{Site: cfg.Site, Store: db, Logger: log, Accounts: db, Hasher: hasher,
		Policy: auth.DefaultPolicy(), Mailer: mailer, TrustedProxies: cfg.TrustedProxies, NoRequestLog: !cfg.RequestLog, Search: engine, Metrics: cfg.Metrics})
	if err != nil {
		ln.Close()
		return err
	}
	if err := ensureAdmin(ctx, db, cfg.Site, stdout); err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	mailDone := make(chan struct{})
	go func() { srv.Run(bg); close(done) }()
	go func() { mailer.Run(bg); close(mailDone) }()

	fmt.Fprintf(stdout, "Helpportal is ready on %s (started in %s; database %s)\n", cfg.BaseURL, time.Since(start).Round(time.Millisecond), db.Location())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		stopBG()
		<-done
		<-mailDone
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	stopBG()
	<-done
	<-mailDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// firstStart seeds the demo content the first time an empty store is served, unless
// --no-demo says not to.
func firstStart(ctx context.Context, db *store.DB, cfg *config.Config, stdout io.Writer) error {
	_, err := db.Meta(ctx, "initialized_at")
	if err == nil {
		return nil
	}
	if helpportal.ErrorCode(err) != helpportal.ENOTFOUND {
		return err
	}
	cats, err := db.Categories(ctx, helpportal.Viewer{Role: helpportal.RoleAdmin})
	if err != nil {
		return err
	}
	if !cfg.NoDemo && len(cats) == 0 { // a store filled by `import` before its first serve keeps its content
		rep, err := mdfolder.Import(ctx, db, demo.Content())
		if err != nil {
			return fmt.Errorf("seed demo content: %w", err)
		}
		if len(rep.Problems) > 0 {
			return fmt.Errorf("seed demo content: %s: %s", rep.Problems[0].Path, rep.Problems[0].Reason)
		}
		for _, a := range demo.Announcements(time.Now()) {
			if err := db.SaveAnnouncement(ctx, a); err != nil {
				return fmt.Errorf("seed demo announcement %s: %w", a.Slug, err)
			}
		}
		for key, value := range demo.Settings() {
			if err := db.SetMeta(ctx, key, value); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "Seeded the demo content: %d categories, %d articles.\n", rep.Categories, rep.Articles)
	}
	return db.SetMeta(ctx, "initialized_at", time.Now().UTC().Format(time.RFC3339))
}
