package web

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// The request log: one line per request, written when the response is complete, with a
// request ID that error answers (4xx, 5xx) carry in X-Request-ID and that every error
// logged while serving the request repeats. It never holds a secret: paths have their
// tokens replaced by [redacted], query strings are left out, the user is an ID (never an
// email address).

// reqLog is what the log knows of one request. accessLog makes it and puts it in the
// request's context; the stages after it fill in what only they know (the client's address
// behind a proxy, the matched route, the signed-in user). It is also the status-capturing
// ResponseWriter, shared with the request metrics. It is never reused: a request's context
// may outlive the request (a page re-rendered in the background logs with it).
type reqLog struct {
	http.ResponseWriter
	id    string
	idHdr [1]string // the X-Request-ID header's value, without a slice of its own
	code  int
	bytes int64
	ip    string
	route string
	user  int64
}

func (l *reqLog) WriteHeader(code int) {
	if l.code == 0 {
		l.code = code
		if code >= 400 {
			// An error is what a person reports: its answer carries the ID to quote. Other
			// answers do not (a tenth header costs a cached page an extra 1 KiB map).
			l.Header()["X-Request-Id"] = l.idHdr[:]
		}
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *reqLog) Write(b []byte) (int, error) {
	if l.code == 0 {
		l.code = http.StatusOK
	}
	n, err := l.ResponseWriter.Write(b)
	l.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer (flushing, deadlines).
func (l *reqLog) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// statusClientClosed is what the log says of a request whose client left before the answer
// (nginx's 499); nothing is sent.
const statusClientClosed = 499

type reqLogKey struct{}

func reqLogOf(ctx context.Context) *reqLog {
	l, _ := ctx.Value(reqLogKey{}).(*reqLog)
	return l
}

// requestID is the ID of the request ctx belongs to, or "".
func requestID(ctx context.Context) string {
	if l := reqLogOf(ctx); l != nil {
		return l.id
	}
	return ""
}

// accessLog is the outermost stage. It gives the request an ID and logs the peer's address;
// behind a trusted proxy, realIP replaces both with what the proxy says. The request metrics
// are counted here too, with the final status (a panic's 500 included).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		l := &reqLog{ResponseWriter: w, ip: clientIP(r), id: newRequestID()}
		l.idHdr[0] = l.id
		next.ServeHTTP(l, r.WithContext(context.WithValue(r.Context(), reqLogKey{}, l)))
		if l.code == 0 { // the handler wrote nothing: net/http sends 200
			l.code = http.StatusOK
		}
		end := time.Now()
		took := end.Sub(start)
		if s.metrics != nil {
			s.metrics.observe(l.route, l.code, took)
		}
		if !s.noReqLog {
			s.logRequest(r, l, end, took)
		}
	})
}

// logRequest writes the request's line. The record is built here and handed to the handler
// directly: Logger.LogAttrs would also capture the caller's program counter, which nobody
// reads (no AddSource) and which costs as much as formatting three fields.
func (s *Server) logRequest(r *http.Request, l *reqLog, end time.Time, took time.Duration) {
	// Background, not the request's context: request_id is the line's first field already.
	ctx := context.Background()
	h := s.log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := [...]slog.Attr{
		slog.String("request_id", l.id),
		slog.String("method", r.Method),
		slog.String("route", l.route),
		slog.String("path", redactPath(l.route, r.URL.Path)),
		slog.Int("status", l.code),
		slog.Int64("bytes", l.bytes),
		slog.Float64("duration_ms", float64(took.Microseconds())/1000),
		slog.String("ip", l.ip),
		slog.Int64("user_id", l.user),
	}
	n := len(attrs)
	if l.user == 0 { // anonymous requests have no user_id at all
		n--
	}
	rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
	rec.AddAttrs(attrs[:n]...)
	_ = h.Handle(ctx, rec) // as slog.Logger does: a log that cannot be written has nowhere to say so
}

// noteRoute is the innermost stage, right around the ServeMux: after routing it records the
// matched pattern and the signed-in user. It runs deferred so a request whose handler
// panicked is logged with its route too.
func (s *Server) noteRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := reqLogOf(r.Context()); l != nil {
			defer l.noteRoute(r)
		}
		next.ServeHTTP(w, r)
	})
}

func (l *reqLog) noteRoute(r *http.Request) {
	l.route = r.Pattern
	if si := current(r); si != nil {
		l.user = si.user.ID
	}
}

// maxRequestIDLen bounds an inbound X-Request-ID.
const maxRequestIDLen = 64

// inboundRequestID is the X-Request-ID of r when it is short and made of [A-Za-z0-9._-]
// only; "" otherwise. Only realIP asks, and only of a trusted proxy: any other peer's header
// is never believed (a client could make its requests' lines look like someone else's).
func inboundRequestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > maxRequestIDLen {
		return ""
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return ""
		}
	}
	return id
}

// newRequestID is 16 hex digits from the runtime's ChaCha8 generator (seeded by the
// system, per thread, no lock): unguessable enough for a correlation ID, and cheap.
func newRequestID() string {
	const hexDigits = "0123456789abcdef"
	var b [16]byte
	x := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[x&0xf]
		x >>= 4
	}
	return string(b[:])
}

// tokenPaths are the paths whose next segment is a one-time token (routes.go). They are
// redacted whether or not the request matched the route: a link opened with the wrong
// method, or on a portal without the client area, still carries its token.
var tokenPaths = []string{"/reset-password/", "/invite/", "/account/email/"}

// maxLoggedPath bounds the path in a log line (longer ones are refused with 400 anyway).
const maxLoggedPath = maxPathLen

// redactPath is the path for the log: every segment that is a token replaced by
// "[redacted]". A segment is a token when the matched route has a wildcard named like one
// ({token}), when it follows one of tokenPaths, or, when no specific route matched (the
// 404 page, a 405), when it has a token's shape. The query string is never logged.
func redactPath(route, p string) string {
	pattern := route[strings.IndexByte(route, ' ')+1:] // "GET /x/{token}" → "/x/{token}"
	catchAll := pattern == "" || strings.HasSuffix(pattern, "/")
	tokenAt := -1 // the index of the segment after a token path
	for _, t := range tokenPaths {
		if len(p) > len(t) && strings.HasPrefix(p, t) {
			tokenAt = strings.Count(t, "/")
		}
	}
	if tokenAt < 0 && !strings.Contains(pattern, "token") && (!catchAll || len(p) <= tokenLen) {
		return truncatePath(p) // the common case: nothing to redact, nothing allocated
	}
	segs := strings.Split(p, "/")
	pats := strings.Split(pattern, "/")
	for i, seg := range segs {
		if seg != "" && (i == tokenAt || i < len(pats) && secretWildcard(pats[i]) || catchAll && tokenShaped(seg)) {
			segs[i] = "[redacted]"
		}
	}
	return truncatePath(strings.Join(segs, "/"))
}

// secretWildcard reports whether a route's segment is a wildcard that holds a token.
func secretWildcard(seg string) bool {
	return strings.HasPrefix(seg, "{") && strings.Contains(seg, "token")
}

// tokenLen is the length of a one-time or session token: 32 random bytes in unpadded
// base64url (internal/auth).
const tokenLen = 43

// tokenShaped reports whether seg looks like a token: that long or longer, all base64url.
func tokenShaped(seg string) bool {
	if len(seg) < tokenLen {
		return false
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func truncatePath(p string) string {
	if len(p) > maxLoggedPath {
		return p[:maxLoggedPath] + "…"
	}
	return p
}

// requestIDHandler adds the request's ID to every record logged with the request's context
// (s.log.ErrorContext(r.Context(), …)), so an error line can be matched with its request's
// line.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := requestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
