package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"helpportal"
	"helpportal/internal/auth"
	"helpportal/internal/config"
	"helpportal/internal/mail"
)

const userUsage = `Usage:
  helpportal user add    --email E --name N --role admin|editor|client [--password-stdin]
  helpportal user invite --email E --name N --role admin|editor|client
`

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "invite") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
			fmt.Fprint(stdout, userUsage)
			return nil
		}
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	sub := args[0]
	var cfg config.Config
	fs := newFlagSet("user "+sub, "user "+sub+" --email E --name N --role admin|editor|client"+map[string]string{
		"add":    " [--password-stdin]\n\nCreates an account. Without --password-stdin the account is invited instead: its\nset-password link is printed.",
		"invite": "\n\nCreates an invited account and mails it a link to set its password (valid 7 days).",
	}[sub], stderr)
	cfg.StoreFlags(fs)
	cfg.MailFlags(fs)
	email := fs.String("email", "", "the account's email address")
	name := fs.String("name", "", "the account's display name")
	role := fs.String("role", "client", "admin, editor or client")
	pwStdin := false
	if sub == "add" {
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input")
	}
	if err := parse(fs, &cfg, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	norm, err := auth.NormalizeEmail(*email)
	if err != nil {
		return fmt.Errorf("--email: %s", helpportal.ErrorMessage(err))
	}
	displayName, err := helpportal.ValidateName(*name)
	if err != nil {
		return fmt.Errorf("--name: %s", helpportal.ErrorMessage(err))
	}
	if !helpportal.ValidRole(helpportal.Role(*role)) {
		return fmt.Errorf("--role must be admin, editor or client, not %q", *role)
	}
	db, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	site, err := siteSettings(ctx, db, &cfg, true)
	if err != nil {
		return err
	}
	u := &helpportal.User{Email: norm, Name: displayName, Role: helpportal.Role(*role), Status: helpportal.UserInvited}
	if pwStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 8192)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the password from standard input: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if err := auth.DefaultPolicy().Check(pw, norm, displayName, site.Name); err != nil {
			return fmt.Errorf("the password was refused: %s", helpportal.ErrorMessage(err))
		}
		h := auth.NewHasher(auth.DefaultParams(), 1, 1)
		if u.PasswordHash, err = h.Hash(ctx, pw); err != nil {
			return err
		}
		u.Status = helpportal.UserActive
		if err := db.CreateUser(ctx, u); err != nil {
			return errors.New(helpportal.ErrorMessage(err))
		}
		fmt.Fprintf(stdout, "Created %s (%s), who can sign in now.\n", norm, *role)
		return nil
	}
	token, hash := auth.NewToken()
	link := site.BaseURL + "/invite/" + token
	var m *helpportal.OutgoingMail
	if sub == "invite" {
		msg, err := mail.Compose(mail.Site{Name: site.Name, BaseURL: site.BaseURL}, norm, mail.KindInvite,
			map[string]string{"name": displayName, "link": link, "expires": "7 days"})
		if err != nil {
			return err
		}
		m = &helpportal.OutgoingMail{To: msg.To, Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, MessageID: msg.MessageID}
	}
	if err := db.InviteUser(ctx, u, helpportal.TokenInvite, hash, inviteTTL, m); err != nil {
		return errors.New(helpportal.ErrorMessage(err))
	}
	if sub == "invite" {
		if err := deliverNow(ctx, db, &cfg, site); err != nil {
			fmt.Fprintf(stderr, "The invitation is queued; the server's mail worker will retry it: %v\n", err)
		}
		fmt.Fprintf(stdout, "Invited %s (%s); the link in the mail is valid for 7 days.\n", auth.MaskEmail(norm), *role)
		return nil
	}
	fmt.Fprintf(stdout, "Created %s (%s). Send them this link to set their password (valid 7 days):\n%s\n", norm, *role, link)
	return nil
}
