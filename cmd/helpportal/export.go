package main

import (
	"context"
	"fmt"
	"io"

	"helpportal/internal/config"
	"helpportal/internal/mdfolder"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config.Config
	fs := newFlagSet("export", "export [flags] DIR\n\nWrites every article (drafts included) to the empty or new folder DIR, in the import format.", stderr)
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
	if err := mdfolder.Export(ctx, db, fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported the portal to %s.\n", fs.Arg(0))
	return nil
}
