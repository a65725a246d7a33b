package main_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"helpportal/internal/store/storetest"
)

// The example's values the test replaces (docs/deploy.md names them too).
const (
	nginxExample   = "../../docs/nginx/helpportal.conf"
	nginxHost      = "help.example.com"
	nginxCertDir   = "/etc/letsencrypt/live/help.example.com/"
	nginxInstanceA = "10.0.0.11:8080"
	nginxInstanceB = "10.0.0.12:8080"
)

var nginxListenRE = regexp.MustCompile(`\blisten (80|443)\b`)

// TestNginxInFrontOfTwoInstances runs Debian's nginx with docs/nginx/helpportal.conf in front
// of two `serve` processes on one PostgreSQL database, all on loopback, and checks the
// example does what docs/deploy.md says: TLS with HTTP/2, HTTP redirected to HTTPS, other
// host names refused, both instances serving, sessions valid on either, the client's own
// address reaching the portal, gzip, the static files' cache headers, the body limit, no
// public /metrics, and GETs surviving an instance killed with SIGKILL.
func TestNginxInFrontOfTwoInstances(t *testing.T) {
	nginx := findNginx()
	if nginx == "" {
		t.Skip("nginx test skipped: needs the nginx binary (apt-get install nginx-light) and HELPPORTAL_TEST_DATABASE_URL")
	}
	if os.Getenv("HELPPORTAL_TEST_DATABASE_URL") == "" {
		t.Skip("nginx test skipped: set HELPPORTAL_TEST_DATABASE_URL=postgres://… to run it")
	}
	started := time.Now()
	ports := freeLoopbackPorts(t, 4)
	addrA, addrB := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	httpPort, httpsPort := ports[2], ports[3]
	public := fmt.Sprintf("https://%s:%d", nginxHost, httpsPort)

	dbURL := storetest.EmptyPostgres(t)
	if code, _, errOut := run(t, "migrate", "--database-url", dbURL); code != 0 {
		t.Fatalf("migrate = %d %s", code, errOut)
	}
	args := func(addr string) []string {
		return []string{"--addr", addr, "--database-url", dbURL, "--data", t.TempDir(),
			"--base-url", public, "--trusted-proxies", "127.0.0.1/32", "--metrics"}
	}
	a := startInstance(t, args(addrA)...)
	b := startInstance(t, args(addrB)...)
	proxy := startNginx(t, nginx, httpPort, httpsPort, addrA, addrB)
	t.Logf("two instances and nginx ready in %s", time.Since(started).Round(time.Millisecond))

	// Two visitors on their own loopback addresses, as nginx and the portal will see them.
	alice := proxyClient(proxy, "127.0.0.2", httpPort, httpsPort)
	bob := proxyClient(proxy, "127.0.0.3", httpPort, httpsPort)
	defer alice.CloseIdleConnections()
	defer bob.CloseIdleConnections()

	// TLS and HTTP/2; both instances serve pages.
	for range 4 {
		res, body := proxyDo(t, alice, "GET", public+"/", nil, nil)
		if res.StatusCode != 200 || !strings.Contains(body, "</html>") {
			t.Fatalf("GET / through nginx = %d", res.StatusCode)
		}
		if res.Proto != "HTTP/2.0" {
			t.Errorf("GET / through nginx over %s, want HTTP/2.0", res.Proto)
		}
		if hsts := res.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Errorf("no HSTS through nginx: %q", hsts)
		}
	}
	if na, nb := servedCount(t, addrA, "GET /{$}"), servedCount(t, addrB, "GET /{$}"); na == 0 || nb == 0 {
		t.Errorf("home pages served: %v by A, %v by B; want both", na, nb)
	}

	// Plain HTTP redirects to the same address on HTTPS; other host names get nothing.
	plain := fmt.Sprintf("http://%s:%d", nginxHost, httpPort)
	res, _ := proxyDo(t, alice, "GET", plain+"/articles/x?q=1", nil, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != 301 || loc != "https://"+nginxHost+"/articles/x?q=1" {
		t.Errorf("plain HTTP = %d to %q, want 301 to https://%s/articles/x?q=1", res.StatusCode, loc, nginxHost)
	}
	if res, err := alice.Get(fmt.Sprintf("http://other.example:%d/", httpPort)); err == nil {
		res.Body.Close()
		t.Errorf("plain HTTP for another host name = %d, want the connection closed", res.StatusCode)
	}
	if conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{ServerName: "other.example", InsecureSkipVerify: true}); err == nil {
		conn.Close()
		t.Error("TLS handshake for another host name succeeded, want it refused")
	}

	// Set-up and sign-in through nginx, with the Origin a browser sends: the portal's
	// cross-origin check sees the Host header the browser sent. The cookie is __Host- and
	// Secure because the public URL is https.
	setup := setupLink(t, b.out.String())
	origin := map[string]string{"Origin": public}
	res, _ = proxyDo(t, bob, "POST", public+setup, url.Values{"email": {"boss@example.com"}, "name": {"Boss"}, "new_password": {strongPassword}}, origin)
	if res.StatusCode != 303 {
		t.Fatalf("set-up through nginx = %d", res.StatusCode)
	}
	res, _ = proxyDo(t, alice, "POST", public+"/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}},
		map[string]string{"Origin": "https://evil.example"})
	if res.StatusCode != 403 {
		t.Errorf("cross-origin sign-in through nginx = %d, want 403", res.StatusCode)
	}
	// A client-supplied X-Forwarded-For is not believed.
	res, _ = proxyDo(t, alice, "POST", public+"/login", url.Values{"email": {"boss@example.com"}, "password": {strongPassword}},
		map[string]string{"Origin": public, "X-Forwarded-For": "203.0.113.7"})
	if res.StatusCode != 303 {
		t.Fatalf("sign-in through nginx = %d", res.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if strings.Contains(c.Name, "hp_session") {
			cookie = c
		}
	}
	if cookie == nil || cookie.Name != "__Host-hp_session" || !cookie.Secure || !cookie.HttpOnly || cookie.Path != "/" {
		t.Errorf("session cookie through nginx = %v, want __Host-hp_session, Secure, HttpOnly, Path=/", cookie)
	}

	// The session works whichever instance answers.
	beforeA, beforeB := servedCount(t, addrA, "GET /account"), servedCount(t, addrB, "GET /account")
	for range 4 {
		if res, _ := proxyDo(t, alice, "GET", public+"/account", nil, nil); res.StatusCode != 200 {
			t.Fatalf("GET /account with the session through nginx = %d", res.StatusCode)
		}
	}
	if na, nb := servedCount(t, addrA, "GET /account")-beforeA, servedCount(t, addrB, "GET /account")-beforeB; na == 0 || nb == 0 {
		t.Errorf("signed-in pages served: %v by A, %v by B; want both", na, nb)
	}

	// The portal sees each visitor's own address, never nginx's nor a forged one.
	_, page := proxyDo(t, alice, "GET", public+"/account/security", nil, nil)
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		if !strings.Contains(page, "<td>"+ip+"</td>") {
			t.Errorf("the security page does not list a session from %s", ip)
		}
	}
	for _, ip := range []string{"127.0.0.1", "203.0.113.7"} {
		if strings.Contains(page, ip) {
			t.Errorf("the security page shows %s, not the visitor's address", ip)
		}
	}

	// gzip on HTML and CSS; the hashed static file keeps its one-year immutable cache.
	res, body := proxyDo(t, alice, "GET", public+"/", nil, map[string]string{"Accept-Encoding": "gzip"})
	if page := mustGunzip(t, res, body); !strings.Contains(page, "</html>") {
		t.Error("the gzipped home page is not the page")
	}
	css := regexp.MustCompile(`href="(/static/[^"]+\.css)"`).FindStringSubmatch(proxyPage(t, alice, public+"/"))
	if css == nil {
		t.Fatal("no stylesheet link on the home page")
	}
	res, body = proxyDo(t, alice, "GET", public+css[1], nil, map[string]string{"Accept-Encoding": "gzip"})
	mustGunzip(t, res, body)
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("%s through nginx: Cache-Control %q", css[1], cc)
	}

	// nginx itself refuses a body over the portal's 1 MiB limit (its error page has none of
	// the portal's headers) and passes one just under it; /metrics is only on the instances.
	long := func(n int) url.Values {
		return url.Values{"email": {"boss@example.com"}, "password": {strings.Repeat("x", n-len("email=boss%40example.com&password="))}}
	}
	if res, _ := proxyDo(t, alice, "POST", public+"/login", long(1<<20+1), origin); res.StatusCode != 413 || res.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("a body of 1 MiB + 1 byte through nginx = %d (CSP %q), want 413 from nginx", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if res, _ := proxyDo(t, alice, "POST", public+"/login", long(1<<20), origin); res.StatusCode != 400 || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("a body of 1 MiB through nginx = %d (CSP %q), want the portal's 400 for a too-long password", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if res, _ := proxyDo(t, alice, "GET", public+"/metrics", nil, nil); res.StatusCode != 404 {
		t.Errorf("/metrics through nginx = %d, want 404", res.StatusCode)
	}

	// Kill A: every GET is still answered (by B), and so is the session.
	a.kill(t)
	for range 6 {
		if res, _ := proxyDo(t, alice, "GET", public+"/", nil, nil); res.StatusCode != 200 {
			t.Errorf("GET / with A killed = %d", res.StatusCode)
		}
	}
	if res, _ := proxyDo(t, alice, "GET", public+"/account", nil, nil); res.StatusCode != 200 {
		t.Errorf("GET /account with A killed = %d", res.StatusCode)
	}
	if log := proxy.errorLog(); !strings.Contains(log, "upstream: \"http://"+addrA) {
		t.Errorf("no request tried the killed instance, so failover was not exercised; nginx error log:\n%s", log)
	}
	t.Logf("nginx test done in %s", time.Since(started).Round(time.Millisecond))
}

// TestDeployDocQuotesTheTestedNginxExample keeps docs/deploy.md honest without nginx: every
// nginx block it shows is a verbatim excerpt of the file TestNginxInFrontOfTwoInstances runs.
func TestDeployDocQuotesTheTestedNginxExample(t *testing.T) {
	example, err := os.ReadFile(nginxExample)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("docs/deploy.md shows no nginx configuration")
	}
	for _, b := range blocks {
		if !bytes.Contains(example, b[1]) {
			t.Errorf("docs/deploy.md shows nginx configuration that is not in %s (copy it from there):\n%s", nginxExample, b[1])
		}
	}
}

// findNginx returns the nginx binary, also where root's PATH has it but others' may not.
func findNginx() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// freeLoopbackPorts returns n loopback ports that were free a moment ago.
func freeLoopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// nginxProc is nginx running from a temporary prefix.
type nginxProc struct {
	dir  string
	cert *x509.Certificate
}

func (n *nginxProc) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "error.log"))
	return string(b)
}

// startNginx writes a self-signed certificate for nginxHost and the example configuration
// with the test's addresses into a temporary folder, starts nginx on it in the foreground,
// waits until both ports listen, and stops it (SIGTERM to the pid it wrote) at the end.
func startNginx(t *testing.T, nginx string, httpPort, httpsPort int, addrA, addrB string) *nginxProc {
	t.Helper()
	dir := t.TempDir()
	n := &nginxProc{dir: dir, cert: writeCert(t, dir)}

	example, err := os.ReadFile(nginxExample)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(example)
	for _, r := range []struct {
		old, new string
		count    int
	}{
		{"server " + nginxInstanceA, "server " + addrA, 1},
		{"server " + nginxInstanceB, "server " + addrB, 1},
		{nginxCertDir, dir + "/", 2},
	} {
		if c := strings.Count(conf, r.old); c != r.count {
			t.Fatalf("%s has %q %d times, the test expects %d: update the test with the example", nginxExample, r.old, c, r.count)
		}
		conf = strings.ReplaceAll(conf, r.old, r.new)
	}
	if c := len(nginxListenRE.FindAllString(conf, -1)); c != 4 {
		t.Fatalf("%s has %d `listen 80|443` lines, the test expects 4: update the test with the example", nginxExample, c)
	}
	conf = nginxListenRE.ReplaceAllStringFunc(conf, func(s string) string {
		if strings.HasSuffix(s, "443") {
			return fmt.Sprintf("listen 127.0.0.1:%d", httpsPort)
		}
		return fmt.Sprintf("listen 127.0.0.1:%d", httpPort)
	})
	if err := os.WriteFile(filepath.Join(dir, "helpportal.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The wrapper around the include: only what a test run needs (everything in dir).
	var wrapper strings.Builder
	if os.Geteuid() == 0 { // workers would run as nobody, who cannot enter the test's folder
		wrapper.WriteString("user root;\n")
	}
	fmt.Fprintf(&wrapper, `worker_processes 1;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/helpportal.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(wrapper.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	pidFile := filepath.Join(dir, "nginx.pid")
	cmd := exec.Command(nginx, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-g", "daemon off; pid "+pidFile+";")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers too, should it die
	stderr := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		pid := cmd.Process.Pid
		if b, err := os.ReadFile(pidFile); err == nil {
			if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && p != pid {
				t.Errorf("nginx wrote pid %d, started %d", p, pid)
			}
		}
		syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pid, syscall.SIGKILL)
			<-done
			t.Errorf("nginx did not stop within 10 s of SIGTERM")
		}
		if _, err := os.Stat(pidFile); err == nil {
			t.Errorf("nginx left its pid file behind")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, port := range []int{httpPort, httpsPort} {
		for {
			conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-done:
				t.Fatalf("nginx exited: %v\n%s\n%s", cmd.ProcessState, stderr, n.errorLog())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx not listening on %d within 10 s:\n%s\n%s", port, stderr, n.errorLog())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return n
}

// writeCert writes a self-signed certificate for nginxHost, valid for an hour, to
// dir/fullchain.pem and its key to dir/privkey.pem.
func writeCert(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: nginxHost},
		DNSNames:              []string{nginxHost},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, "fullchain.pem"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "privkey.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert
}

// proxyClient is a browser-like client (cookies, HTTP/2, no redirects followed) that
// trusts only the test's certificate and reaches nginxHost's ports on 127.0.0.1 from the
// loopback address from.
func proxyClient(n *nginxProc, from string, httpPort, httpsPort int) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(n.cert)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, _ := net.SplitHostPort(addr)
				if port != strconv.Itoa(httpPort) && port != strconv.Itoa(httpsPort) {
					return nil, fmt.Errorf("the test client only dials nginx, not %s", addr)
				}
				return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// proxyDo makes one request (a form POST when form is not nil) with extra headers and returns
// the response with its body read.
func proxyDo(t *testing.T, c *http.Client, method, target string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func proxyPage(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	_, body := proxyDo(t, c, "GET", target, nil, nil)
	return body
}

// mustGunzip checks res came gzipped (with Vary: Accept-Encoding) and returns the plain body.
func mustGunzip(t *testing.T, res *http.Response, body string) string {
	t.Helper()
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("%s through nginx = %d, Content-Encoding %q, Vary %q; want gzip", res.Request.URL.Path, res.StatusCode,
			res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		return body
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(plain)
}

// servedCount is how many 200s an instance's /metrics counts for route.
func servedCount(t *testing.T, addr, route string) float64 {
	t.Helper()
	status, body := get(t, "http://"+addr+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics on %s = %d", addr, status)
	}
	prefix := `helpportal_http_requests_total{code="200",route="` + route + `"} `
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metrics line %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}
