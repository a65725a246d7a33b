package auth

import "strings"

// entry names a browser or system and the header substrings that identify it.
type entry struct {
	name   string
	tokens []string
}

// Each table is tried in order and the first entry with a matching token wins, so more specific
// tokens come first: Edge and Opera also say "Chrome/", Chrome also says "Safari/", iPhone also
// says "Mac OS X" and Android also says "Linux".
var (
	browsers = []entry{
		{"curl", []string{"curl/"}},
		{"Wget", []string{"Wget/"}},
		{"Edge", []string{"Edg/", "EdgA/", "EdgiOS/", "Edge/"}},
		{"Opera", []string{"OPR/", "Opera"}},
		{"Samsung Internet", []string{"SamsungBrowser/"}},
		{"Firefox", []string{"Firefox/", "FxiOS/"}},
		{"Chrome", []string{"Chrome/", "CriOS/"}},
		{"Safari", []string{"Safari/"}},
	}
	systems = []entry{
		{"iPhone", []string{"iPhone"}},
		{"iPad", []string{"iPad"}},
		{"Android", []string{"Android"}},
		{"Windows", []string{"Windows"}},
		{"ChromeOS", []string{"CrOS"}},
		{"macOS", []string{"Macintosh", "Mac OS X"}},
		{"Linux", []string{"Linux", "X11"}},
	}
)

// DescribeUserAgent returns a short label for a session list, such as "Firefox on Windows",
// "Safari on iPhone" or "curl"; "Unknown browser" when nothing is recognised. The result is
// always built from the tables above, never from the header, so it is safe to display.
func DescribeUserAgent(ua string) string {
	find := func(table []entry) string {
		for _, e := range table {
			for _, t := range e.tokens {
				if strings.Contains(ua, t) {
					return e.name
				}
			}
		}
		return ""
	}
	b := find(browsers)
	if b == "curl" || b == "Wget" { // tools: the OS in their header is rarely there or useful
		return b
	}
	switch os := find(systems); {
	case b == "" && os == "":
		return "Unknown browser"
	case b == "":
		return "Unknown browser on " + os
	case os == "":
		return b
	default:
		return b + " on " + os
	}
}
