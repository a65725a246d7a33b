package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"helpportal"
	"helpportal/internal/store"
	"helpportal/internal/store/storetest"
)

// TestCreateTokenConcurrently: requests for a reset link arriving together at two
// instances leave exactly one live link, as one after the other would. On PostgreSQL
// this needs the per-user-and-purpose lock in createToken: without it each transaction
// voids only the tokens committed before it began and inserts its own.
func TestCreateTokenConcurrently(t *testing.T) {
	ctx := context.Background()
	a, b := storetest.MustOpenPair(t)
	u := mustUser(t, a, "race@example.com")
	other := mustUser(t, a, "bystander@example.com")
	if err := a.CreateToken(ctx, other.ID, helpportal.TokenReset, "other", "", time.Hour, nil, nil); err != nil {
		t.Fatal(err)
	}
	const n = 8
	for round := range 3 { // the first round starts with no token, later ones with one live
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			db := []*store.DB{a, b}[i%2]
			wg.Go(func() {
				<-start
				hash := fmt.Sprintf("r%d-%d", round, i)
				if err := db.CreateToken(ctx, u.ID, helpportal.TokenReset, hash, "", time.Hour, nil, nil); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		live := 0
		for r := 0; r <= round; r++ {
			for i := range n {
				if _, _, _, err := a.TokenUser(ctx, fmt.Sprintf("r%d-%d", r, i), helpportal.TokenReset); err == nil {
					live++
				}
			}
		}
		if live != 1 {
			t.Fatalf("round %d: %d live reset tokens after %d concurrent requests, want 1", round, live, n)
		}
	}
	// Another user's token is left alone.
	if _, _, _, err := a.TokenUser(ctx, "other", helpportal.TokenReset); err != nil {
		t.Errorf("another user's token was voided: %v", err)
	}
}
