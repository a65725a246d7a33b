// Package auth holds the account security primitives of the client area: the password policy
// (NIST SP 800-63B rev. 4, OWASP ASVS 5.0), argon2id hashing behind a bounded worker pool,
// one-time tokens, email normalisation and user-agent labels. It has no storage and no HTTP:
// the web package decides what to do with the answers.
package auth

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
	"golang.org/x/text/unicode/norm"

	"helpportal"
)

// Policy is the password policy. There are no composition rules, no expiry and no hints, as
// NIST SP 800-63B rev. 4 requires: length, a blocklist and a context check do the work.
type Policy struct {
	MinLength int // runes after NFKC; 0 means 15, the NIST minimum for a single factor; never below 8
	MaxLength int // runes after NFKC; 0 means 256; never below 128 (ASVS: allow at least 64, NIST: 64)
}

// DefaultPolicy returns the policy the issue sets: 15 to 256 characters.
func DefaultPolicy() Policy { return Policy{MinLength: 15, MaxLength: 256} }

// effective applies the defaults and floors, so a zero or careless Policy is never weaker.
func (p Policy) effective() Policy {
	if p.MinLength <= 0 {
		p.MinLength = 15
	}
	p.MinLength = max(p.MinLength, 8)
	if p.MaxLength <= 0 {
		p.MaxLength = 256
	}
	p.MaxLength = max(p.MaxLength, 128, p.MinLength)
	return p
}

// Normalize returns the NFKC form of a password, so that the same characters typed on another
// keyboard or OS (fullwidth letters, ligatures, composed or decomposed accents) are one password.
func Normalize(password string) string { return norm.NFKC.String(password) }

// Messages say why a password was refused and what to do instead; each reason has its own.
const (
	msgShort      = "Use at least %d characters; a few unrelated words make a strong passphrase."
	msgLong       = "Use at most %d characters."
	msgUnreadable = "This password contains characters that could not be read; please type it again."
	msgContext    = "Don't build your password from your email address, name or the site's name."
	msgCommon     = "This password appears in lists of common or breached passwords; choose another."
	msgWords      = "This password is made of common words or names that are easy to guess together; add a few more unrelated words."
	msgKeyboard   = "This password follows a keyboard pattern (like qwerty), which is easy to guess; a few unrelated words make a strong passphrase."
	msgRepeat     = "This password repeats characters or words, which is easy to guess; a few unrelated words make a strong passphrase."
	msgSequence   = "This password uses a sequence (like abcd or 4321), which is easy to guess; a few unrelated words make a strong passphrase."
	msgDate       = "This password relies on dates or years, which are easy to guess; a few unrelated words make a strong passphrase."
)

// Check returns nil when the policy accepts password, or an EINVALID *helpportal.Error whose
// message says why it was refused. context holds the user's email, display name and the site
// name (empty strings are ignored).
func (p Policy) Check(password string, context ...string) error {
	_, err := p.assess(password, context)
	return err
}

// Strength feeds the progressive strength meter: zxcvbn's score 0–4 and a one-line hint,
// judged against DefaultPolicy. A refused password never scores above 1, so the meter cannot
// look happy about something the server will refuse (the server still decides with Check).
func Strength(password string, context ...string) (score int, hint string) {
	score, err := DefaultPolicy().assess(password, context)
	switch {
	case err != nil:
		return min(score, 1), helpportal.ErrorMessage(err)
	case score >= 4:
		return score, "Strong password."
	default:
		return score, "Good password; another unrelated word would make it stronger."
	}
}

// zxcvbnMaxBytes bounds what zxcvbn examines: its scoring is cubic in the length (about 10 ms
// at 64 bytes, 330 ms at 256 on this hardware), and a password whose first 64 bytes are
// hard to guess is hard to guess. A long password with a guessable start is refused, which
// errs on the safe side.
const zxcvbnMaxBytes = 64

// assess runs every rule in the order that gives the most useful message, and returns
// zxcvbn's score (0 when it did not run) for the meter.
func (p Policy) assess(password string, context []string) (int, error) {
	p = p.effective()
	// NFKC never folds more than about 9 input bytes into one rune (Hangul L+V+T jamo), so
	// more than 16 bytes per allowed rune is too long for sure: a 10 MB paste stops here.
	if len(password) > 16*p.MaxLength {
		return 0, helpportal.Errorf(helpportal.EINVALID, msgLong, p.MaxLength)
	}
	if !utf8.ValidString(password) {
		return 0, helpportal.Errorf(helpportal.EINVALID, msgUnreadable)
	}
	pw := Normalize(password)
	n := utf8.RuneCountInString(pw)
	if n > p.MaxLength {
		return 0, helpportal.Errorf(helpportal.EINVALID, msgLong, p.MaxLength)
	}
	words := contextWords(context)
	score, weak := guessability(pw, words)
	switch {
	case n < p.MinLength:
		return score, helpportal.Errorf(helpportal.EINVALID, msgShort, p.MinLength)
	case builtFromContext(pw, words):
		return score, helpportal.Errorf(helpportal.EINVALID, msgContext)
	case weak != "":
		return score, helpportal.Errorf(helpportal.EINVALID, "%s", weak)
	}
	return score, nil
}

// contextWords returns the lower-case, letters-only words a password must not be built from:
// each context string whole and word by word; for an email the local part and the domain
// labels before the top-level domain ("com" would match far too much). Words shorter than 3
// letters are dropped for the same reason. Longest first, so "janedoe" is taken before "jane".
func contextWords(context []string) []string {
	set := map[string]bool{}
	add := func(s string) {
		if w := lettersOnly(s); utf8.RuneCountInString(w) >= 3 {
			set[w] = true
		}
	}
	addAll := func(s string) {
		add(s)
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
			add(w)
		}
	}
	for _, c := range context {
		c = strings.ToLower(Normalize(c))
		local, domain, isEmail := strings.Cut(c, "@")
		if !isEmail {
			addAll(c)
			continue
		}
		add(c)
		addAll(local)
		labels := strings.Split(domain, ".")
		for _, l := range labels[:max(len(labels)-1, 1)] {
			addAll(l)
		}
	}
	words := make([]string, 0, len(set))
	for w := range set {
		words = append(words, w)
	}
	slices.SortFunc(words, func(a, b string) int { return len(b) - len(a) })
	return words
}

func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s)
}

// builtFromContext reports whether the letters of the password are mostly (at least half)
// context words: "JaneDoe2024!", "jane.doe@example.com", "J4ne Doe!!" and "Acme Support rocks"
// are; "jane loves hiking in the alps" is not. Digits, spaces and punctuation are ignored, and
// common digit-for-letter swaps are undone (trying 1 as both i and l).
func builtFromContext(pw string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	lower := strings.ToLower(pw)
	for _, one := range []rune{0, 'i', 'l'} {
		s := lower
		if one != 0 {
			s = unleet(lower, one)
		}
		s = lettersOnly(s)
		total := utf8.RuneCountInString(s)
		for _, w := range words {
			s = strings.ReplaceAll(s, w, " ") // a space, so removal never joins new words
		}
		rest := utf8.RuneCountInString(strings.ReplaceAll(s, " ", ""))
		if fromContext := total - rest; fromContext > 0 && fromContext >= rest {
			return true
		}
	}
	return false
}

func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '1':
			return one
		case '0':
			return 'o'
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7', '+':
			return 't'
		case '8':
			return 'b'
		case '9':
			return 'g'
		case '!', '|':
			return 'i'
		}
		return r
	}, s)
}

// guessability runs zxcvbn (its embedded frequency lists of breached passwords, English words,
// names and film scripts, plus the context words) and returns its score and, when the password
// is too guessable, the message saying why. Refused are passwords that zxcvbn scores below 3
// (fewer than 1e8 guesses), and passwords that are at least 75% known patterns (dictionary
// words, keyboard walks, repeats, sequences, dates) whose pieces multiply out to fewer than
// 1e10 guesses: zxcvbn adds a generous bonus for every extra piece, which is what lets
// "Password2024!!!!" or "horsebattery123" reach a score of 3.
func guessability(pw string, words []string) (score int, msg string) {
	if len(pw) > zxcvbnMaxBytes {
		cut := zxcvbnMaxBytes
		for !utf8.RuneStart(pw[cut]) {
			cut--
		}
		pw = pw[:cut]
	}
	r := zxcvbn.PasswordStrength(pw, words)
	covered, guesses := 0, 1.0
	var main *match.Match // the longest pattern: the one the message is about
	for i, m := range r.Sequence {
		guesses *= m.Guesses * float64(i+1) // the product of the pieces times l! orders
		if m.Pattern == "bruteforce" {
			continue
		}
		covered += utf8.RuneCountInString(m.Token)
		if main == nil || utf8.RuneCountInString(m.Token) > utf8.RuneCountInString(main.Token) {
			main = m
		}
	}
	patterned := covered*4 >= utf8.RuneCountInString(pw)*3 && guesses < 1e10
	if r.Score >= 3 && !patterned {
		return r.Score, ""
	}
	switch {
	case main == nil || main.Pattern == "dictionary" && main.DictionaryName == "passwords":
		return r.Score, msgCommon
	case main.Pattern == "dictionary" && main.DictionaryName == "user_inputs":
		return r.Score, msgContext
	case main.Pattern == "dictionary":
		return r.Score, msgWords
	case main.Pattern == "spatial":
		return r.Score, msgKeyboard
	case main.Pattern == "repeat":
		return r.Score, msgRepeat
	case main.Pattern == "sequence":
		return r.Score, msgSequence
	case main.Pattern == "date" || main.Pattern == "regex":
		return r.Score, msgDate
	}
	return r.Score, msgCommon
}
