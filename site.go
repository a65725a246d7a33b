// Package helpportal holds the domain of the help portal: its types, the service interfaces
// the store implements, and the one error vocabulary. Sub-packages depend on it, never the
// other way round.
package helpportal

// Link is a labelled URL the owner sets, such as "Get prices".
type Link struct {
	Label string
	URL   string
}

// Site is what the owner configures about the portal as a whole.
type Site struct {
	Name        string
	Tagline     string
	Language    string // BCP 47, for <html lang>
	BaseURL     string // absolute, no trailing slash; used for canonical URLs, feeds and mail
	HeaderLinks []Link
	Support     string // one line: how to reach support
	Footer      string
}
