package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/config"
	"helpportal/internal/mail"
	"helpportal/internal/store"
)

const (
	inviteTTL = 7 * 24 * time.Hour
	setupTTL  = 24 * time.Hour
	// setupEmail stands for the first admin until they choose their own address; .invalid
	// is reserved and can never receive mail.
	setupEmail = "admin@setup.invalid"
)

// siteSettings completes the site settings from the store (flags win) and remembers the
// base URL serve uses, so that links the CLI mails point at the running portal.
func siteSettings(ctx context.Context, db *store.DB, cfg *config.Config, storedBase bool) (helpportal.Site, error) {
	stored := map[string]string{}
	for _, s := range config.SiteSettings {
		if v, err := db.Meta(ctx, s.Key); err == nil {
			stored[s.Key] = v
		}
	}
	if err := cfg.ApplyStored(stored); err != nil {
		return helpportal.Site{}, err
	}
	if storedBase && !cfg.Given("base-url") {
		if v, err := db.Meta(ctx, "site.base_url"); err == nil {
			cfg.BaseURL = v
		}
	}
	cfg.Site.BaseURL = cfg.BaseURL
	return cfg.Site, nil
}

// mailSender is SMTP when --smtp-url is set, else .eml files under DATA/mail.
func mailSender(cfg *config.Config, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTPURL != "" {
		return mail.NewSMTPSender(cfg.SMTPURL)
	}
	return mail.NewFileSender(filepath.Join(cfg.Data, "mail"), log), nil
}

// deliverNow runs the mail worker until the outbox is empty or a few seconds have passed,
// for commands that queue mail and exit.
func deliverNow(ctx context.Context, db *store.DB, cfg *config.Config, site helpportal.Site) error {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender, err := mailSender(cfg, log)
	if err != nil {
		return err
	}
	w := mail.NewWorker(db, sender, mail.WorkerConfig{From: cfg.MailFrom, Poll: 100 * time.Millisecond}, log)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	for ctx.Err() == nil {
		n, err := db.OutboxDepth(ctx)
		if err != nil || n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	<-done
	if n, _ := db.OutboxDepth(context.WithoutCancel(ctx)); n > 0 {
		return fmt.Errorf("%d message(s) could not be delivered yet", n)
	}
	return nil
}

// ensureAdmin prints a one-time link to set up the first admin while no admin can sign in.
// Every start makes a new link and voids the old one; there is never a default password.
func ensureAdmin(ctx context.Context, db *store.DB, site helpportal.Site, stdout io.Writer) error {
	ok, err := db.HasActiveAdmin(ctx)
	if err != nil || ok {
		return err
	}
	token, hash := auth.NewToken()
	u, err := db.UserByEmail(ctx, setupEmail)
	switch helpportal.ErrorCode(err) {
	case "":
		err = db.CreateToken(ctx, u.ID, helpportal.TokenSetup, hash, "", setupTTL, nil, nil)
	case helpportal.ENOTFOUND:
		err = db.InviteUser(ctx, &helpportal.User{Email: setupEmail, Name: "Administrator", Role: helpportal.RoleAdmin,
			Status: helpportal.UserInvited}, helpportal.TokenSetup, hash, setupTTL, nil)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "No administrator can sign in yet. Set one up with this one-time link (valid 24 hours):\n  %s/invite/%s\n", site.BaseURL, token)
	return nil
}
