// Command helpportal runs the help portal: one binary for the server and its tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"helpportal/internal/config"
)

const usage = `helpportal: a self-hosted help portal.

Usage:
  helpportal serve    [flags]   run the portal (see helpportal serve --help)
  helpportal migrate  [flags]   apply database migrations
  helpportal import   [flags] DIR   import a Markdown folder
  helpportal export   [flags] DIR   export every article as a Markdown folder
  helpportal reindex  [flags]       rebuild the search index beside the live one and swap it in
  helpportal backup   [flags] FILE  copy the SQLite database while the portal runs
  helpportal copy --from URL --to URL   move a whole portal between SQLite and PostgreSQL
  helpportal user add    --email E --name N --role R [--password-stdin]
  helpportal user invite --email E --name N --role R   (mails a set-password link)

Every flag can also be set as HELPPORTAL_<FLAG>, e.g. HELPPORTAL_DATA=/var/lib/helpportal.
`

// errUsage means the command line was wrong; the flag package has already said why.
var errUsage = errors.New("usage")

// exitError carries a specific exit status for a failure already reported.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "reindex":
		err = cmdReindex(ctx, args[1:], stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, args[1:], stdout, stderr)
	case "user":
		err = cmdUser(ctx, args[1:], os.Stdin, stdout, stderr)
	case "import":
		err = cmdImport(ctx, args[1:], stdout, stderr)
	case "export":
		err = cmdExport(ctx, args[1:], stdout, stderr)
	case "copy":
		err = cmdCopy(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "helpportal: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintf(stderr, "helpportal %s: %v\n", args[0], err)
	return 1
}

// newLogger writes records of level info and above to w, as one JSON object a line or as
// text (--log-format).
func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: helpportal %s\n\nFlags (each also read from HELPPORTAL_<FLAG>):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses the command line; a flag error (already printed by the flag package) becomes
// errUsage, and settings are then completed from the environment and validated.
func parse(fs *flag.FlagSet, cfg *config.Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return cfg.Load(fs)
}

// parseStoreCmd parses the command line of a command that works on the store: the store
// flags, any extra flags, and exactly one argument when argName is set (none otherwise).
// It returns the settings and the argument.
func parseStoreCmd(name, synopsis, argName string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*config.Config, string, error) {
	var cfg config.Config
	fs := newFlagSet(name, synopsis, stderr)
	cfg.StoreFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := parse(fs, &cfg, args); err != nil {
		return nil, "", err
	}
	switch {
	case argName == "" && fs.NArg() > 0:
		return nil, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case argName != "" && fs.NArg() != 1:
		fmt.Fprintf(stderr, "helpportal %s needs one %s.\n", name, argName)
		fs.Usage()
		return nil, "", errUsage
	}
	return &cfg, fs.Arg(0), nil
}
