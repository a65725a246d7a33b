package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"helpportal"
	"helpportal/internal/config"
)

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs := newFlagSet("backup", "backup [flags] FILE\n\nWrites a consistent copy of the SQLite database to FILE while the portal keeps serving.\nRestore by stopping the portal and putting FILE in place of DATA/helpportal.db.", stderr)
	cfg.StoreFlags(fs)
	if err := parse(fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	db, err := openStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, fs.Arg(0)); err != nil {
		if helpportal.ErrorCode(err) == helpportal.EINVALID {
			return errors.New(helpportal.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s.\n", db.Location(), fs.Arg(0))
	return nil
}
