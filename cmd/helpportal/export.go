package main

import (
	"context"
	"fmt"
	"io"

	"helpportal/internal/mdfolder"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, dir, err := parseStoreCmd("export", "export [flags] DIR\n\nWrites every article (drafts included) to the empty or new folder DIR, in the import format.", "folder", args, stderr, nil)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := mdfolder.Export(ctx, db, dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported the portal to %s.\n", dir)
	return nil
}
