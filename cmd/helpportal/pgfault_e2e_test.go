package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"helpportal/internal/store/storetest"
)

// TestPostgresRestartWhileServing puts a TCP proxy between `serve` and PostgreSQL and, to
// stand in for a database restart, cuts every connection and refuses new ones for two
// seconds. Meanwhile whatever needs the database answers 503 with a message a person can
// read (cached pages keep being served), /readyz says 503 and the process stays up;
// afterwards it recovers by itself within seconds, and every write it acknowledged, before
// or around the cut, is in the database.
func TestPostgresRestartWhileServing(t *testing.T) {
	if os.Getenv(storetest.EnvURL) == "" {
		t.Skip("PostgreSQL tests skipped: set " + storetest.EnvURL + "=postgres://… to run them")
	}
	t.Parallel()
	dbURL := storetest.EmptyPostgres(t)
	if code, _, errOut := run(t, "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("migrate = %d %s", code, errOut)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startPGProxy(t, u.Host)
	u.Host = proxy.addr
	srv := startInstance(t, "--database-url", u.String(), "--data", t.TempDir())
	base := srv.base

	// Before the cut: an account, a session, pages in the cache.
	setup := setupLink(t, srv.out.String())
	if res, _ := newBrowser(t, base).post(setup, url.Values{"email": {"boss@example.com"}, "name": {"Boss"}, "new_password": {strongPassword}}); res.StatusCode != 303 {
		t.Fatalf("set-up = %d", res.StatusCode)
	}
	signedIn := newBrowser(t, base)
	if res, _ := signedIn.post("/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}}); res.StatusCode != 303 {
		t.Fatalf("sign in = %d", res.StatusCode)
	}
	slugs := articleSlugs(t, base)
	if len(slugs) < 4 {
		t.Fatalf("demo content has %d articles", len(slugs))
	}
	voteOn, cached, uncachedGap, uncachedAfter := slugs[0], slugs[1], slugs[2], slugs[3]
	for _, p := range []string{"/", "/articles/" + cached} {
		if code, _ := get(t, base+p); code != 200 {
			t.Fatalf("GET %s = %d", p, code)
		}
	}

	// Votes from new visitors all along, across the cut: each acknowledged one must stay.
	voter := startVoter(t, base, voteOn)
	voter.waitAcknowledged(t, 5*time.Second) // some votes from before the cut are at stake

	proxy.cut()
	cutAt := time.Now()
	// What needs the database says so, with 503 and words; none of it is a 500.
	check := func(what string, res *http.Response, body string) {
		t.Helper()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("during the cut, %s = %d, want 503\n%.300s", what, res.StatusCode, body)
		} else if res.Header.Get("Retry-After") == "" {
			t.Errorf("during the cut, %s: 503 without Retry-After", what)
		} else if !strings.Contains(body, "try again") {
			t.Errorf("during the cut, %s: 503 without a message a person can act on:\n%.300s", what, body)
		}
	}
	anon := newBrowser(t, base)
	res, body := anon.get("/articles/" + uncachedGap)
	check("an uncached article", res, body)
	res, body = anon.post("/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}})
	check("signing in", res, body)
	res, body = anon.post("/articles/"+voteOn+"/vote", url.Values{"helpful": {"yes"}})
	check("a vote", res, body)
	res, body = signedIn.get("/account")
	check("the account page", res, body)
	// The error page's style sheet still loads for a signed-in visitor: static files need
	// no session lookup.
	if css := regexp.MustCompile(`/static/[^"]+\.css`).FindString(body); css == "" {
		t.Error("the error page links no style sheet")
	} else if res, _ := signedIn.get(css); res.StatusCode != 200 {
		t.Errorf("during the cut, %s for a signed-in visitor = %d", css, res.StatusCode)
	}
	if res, body := anon.get("/readyz"); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("during the cut, /readyz = %d %q", res.StatusCode, body)
	}
	if res, _ := anon.get("/healthz"); res.StatusCode != 200 {
		t.Errorf("during the cut, /healthz = %d: the process is alive", res.StatusCode)
	}
	if res, _ := anon.get("/articles/" + cached); res.StatusCode != 200 {
		t.Errorf("during the cut, a cached article = %d, want it served from the cache", res.StatusCode)
	}
	if res, body := anon.get("/search?q=password"); res.StatusCode != 200 && res.StatusCode != 503 {
		t.Errorf("during the cut, a search = %d\n%.300s", res.StatusCode, body)
	}
	time.Sleep(time.Until(cutAt.Add(2 * time.Second)))
	if _, err := http.Get(base + "/healthz"); err != nil {
		t.Fatalf("serve is gone at the end of the cut: %v\n%s", err, srv.log.String())
	}
	proxy.restore(t)
	restoredAt := time.Now()

	// Back by itself, without a restart.
	for {
		if res, _ := anon.get("/readyz"); res.StatusCode == 200 {
			break
		}
		if time.Since(restoredAt) > 10*time.Second {
			t.Fatalf("/readyz still failing 10 s after the database came back\n%s", srv.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ready := time.Since(restoredAt)
	voter.waitAcknowledged(t, 5*time.Second)
	t.Logf("cut %s; ready again %s after the database came back; votes during the run: %s",
		restoredAt.Sub(cutAt).Round(time.Millisecond), ready.Round(time.Millisecond), voter.stop())
	if ready > 5*time.Second {
		t.Errorf("took %s to recover, want a few seconds", ready)
	}
	// The change listener reconnects too (its backoff had reached 1.6 s during the cut).
	for !strings.Contains(srv.log.String(), "change notifications are back") {
		if time.Since(restoredAt) > 10*time.Second {
			t.Fatalf("the change listener did not reconnect:\n%s", srv.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res, _ := anon.get("/articles/" + uncachedAfter); res.StatusCode != 200 {
		t.Errorf("after the cut, an uncached article = %d", res.StatusCode)
	}
	if res, _ := signedIn.get("/account"); res.StatusCode != 200 {
		t.Errorf("after the cut, the session made before it = %d", res.StatusCode)
	}
	if res, _ := newBrowser(t, base).post("/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}}); res.StatusCode != 303 {
		t.Errorf("after the cut, signing in = %d", res.StatusCode)
	}
	for status, n := range voter.statuses() {
		if status != http.StatusSeeOther && status != http.StatusServiceUnavailable {
			t.Errorf("%d votes answered %d (only 303 or 503 are right)", n, status)
		}
	}

	// Nothing acknowledged is lost.
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT voter FROM votes`)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, v := range stored {
		have[v] = true
	}
	acked := voter.acknowledged()
	lost := 0
	for _, v := range acked {
		if !have[v] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged votes are missing from the database", lost, len(acked))
	}
}

// articleSlugs lists the portal's articles through the API.
func articleSlugs(t *testing.T, base string) []string {
	t.Helper()
	_, body := get(t, base+"/api/v1/articles")
	var slugs []string
	for _, m := range regexp.MustCompile(`"slug":"([a-z0-9-]+)"`).FindAllStringSubmatch(body, -1) {
		slugs = append(slugs, m[1])
	}
	return slugs
}

// voter votes on one article as a new visitor every few milliseconds, remembering the
// statuses and the visitors whose vote was acknowledged.
type voter struct {
	mu    sync.Mutex
	acked []string // SHA-256 of the visitor cookie, as stored
	codes map[int]int
	quit  chan struct{}
	done  chan struct{}
}

func startVoter(t *testing.T, base, slug string) *voter {
	v := &voter{codes: map[int]int{}, quit: make(chan struct{}), done: make(chan struct{})}
	client := noFollow()
	client.Timeout = 10 * time.Second
	go func() {
		defer close(v.done)
		for i := 0; ; i++ {
			select {
			case <-v.quit:
				return
			case <-time.After(10 * time.Millisecond):
			}
			visitor := fmt.Sprintf("%032x", i+1)
			req, _ := http.NewRequest(http.MethodPost, base+"/articles/"+slug+"/vote", strings.NewReader("helpful=yes"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: "hp_visitor", Value: visitor})
			res, err := client.Do(req)
			if err != nil {
				continue // no answer is no acknowledgement
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			sum := sha256.Sum256([]byte(visitor))
			v.mu.Lock()
			v.codes[res.StatusCode]++
			if res.StatusCode == http.StatusSeeOther {
				v.acked = append(v.acked, hex.EncodeToString(sum[:]))
			}
			v.mu.Unlock()
		}
	}()
	t.Cleanup(func() { v.stop() })
	return v
}

// waitAcknowledged waits for a vote acknowledged from now on.
func (v *voter) waitAcknowledged(t *testing.T, within time.Duration) {
	t.Helper()
	v.mu.Lock()
	n := len(v.acked)
	v.mu.Unlock()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		v.mu.Lock()
		more := len(v.acked) > n
		v.mu.Unlock()
		if more {
			return
		}
	}
	t.Errorf("no vote acknowledged within %s", within)
}

// stop ends the voting and summarises the statuses.
func (v *voter) stop() string {
	select {
	case <-v.quit:
	default:
		close(v.quit)
	}
	<-v.done
	v.mu.Lock()
	defer v.mu.Unlock()
	return fmt.Sprint(v.codes)
}

func (v *voter) statuses() map[int]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.codes
}

func (v *voter) acknowledged() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.acked
}

// pgProxy forwards TCP connections to PostgreSQL until cut, which closes every open one
// and refuses new ones (its port is closed) until restore.
type pgProxy struct {
	upstream, addr string
	mu             sync.Mutex
	ln             net.Listener
	conns          map[net.Conn]bool
}

func startPGProxy(t *testing.T, upstream string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{upstream: upstream, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	go p.accept(ln)
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *pgProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by cut
		}
		go p.pipe(c)
	}
}

func (p *pgProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, pair := range [][2]net.Conn{{c, up}, {up, c}} {
		wg.Go(func() {
			io.Copy(pair[0], pair[1])
			pair[0].Close()
			pair[1].Close()
		})
	}
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut closes the port and every connection through it, as a stopping server does.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore opens the port again.
func (p *pgProxy) restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port is ours, but give a passing connect a moment to let go of it
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("reopen the proxy port: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.accept(ln)
}
