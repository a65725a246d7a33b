package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"helpportal"
)

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, file, err := parseStoreCmd("backup", "backup [flags] FILE\n\nWrites a consistent copy of the SQLite database to FILE while the portal keeps serving.\nRestore by stopping the portal and putting FILE in place of DATA/helpportal.db.", "file", args, stderr, nil)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, file); err != nil {
		if helpportal.ErrorCode(err) == helpportal.EINVALID {
			return errors.New(helpportal.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s to %s.\n", db.Location(), file)
	return nil
}
