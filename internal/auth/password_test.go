package auth

import (
	"strings"
	"testing"

	"helpportal"
)

var ctxWords = []string{"jane.doe@example.com", "Jane Doe", "Acme Support"}

// long is a password of n runes whose start is hard to guess (zxcvbn judges the first 64 bytes).
func long(n int) string {
	s := "vanilla quantum bicycle orbit "
	return s + strings.Repeat("é", n-len([]rune(s)))
}

func TestPolicyCheck(t *testing.T) {
	short := strings.Replace(msgShort, "%d", "15", 1)
	tests := []struct {
		name, pw string
		want     string // "" = accepted, else the exact message
	}{
		{"14 runes", "Zebra4quill!mo", short},
		{"15 runes", "Zebra4quill!mop", ""},
		{"14 emoji", "🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮🐷🐸", short},
		{"15 emoji: runes, not bytes", "🐶🐱🐭🐹🐰🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵", ""},
		{"14 runes, ligature makes 15 after NFKC", "Zebra4quill!mﬁ", ""},
		{"empty", "", short},
		{"256 runes", long(256), ""},
		{"257 runes", long(257), "Use at most 256 characters."},
		{"10 MB", strings.Repeat("a", 10<<20), "Use at most 256 characters."},
		{"invalid UTF-8", "vanilla quantum \xff bicycle", msgUnreadable},
		{"spaces", "a few unrelated words", ""},
		{"only spaces", strings.Repeat(" ", 20), msgRepeat},
		{"unicode words", "Ünïcödé wörds mäke frïends", ""},
		{"fullwidth good", "ｖａｎｉｌｌａ ｑｕａｎｔｕｍ ｂｉｃｙｃｌｅ", ""},
		{"common", "password123456789", msgCommon},
		{"keyboard rows", "qwertyuiopasdfgh", msgCommon},
		{"keyboard walk", "asdfghjkl;'zxcvbnm,./", msgKeyboard},
		{"dates", "19991231 20001231", msgDate},
		{"two common words", "vanilla quantum", msgCommon},
		{"fullwidth common", "ｐａｓｓｗｏｒｄ１２３４５６７８９", msgCommon},
		{"decorated common", "Password2024!!!!", msgCommon},
		{"two words and digits", "horsebattery123", msgWords},
		{"repeat", "iloveyouiloveyou", msgRepeat},
		{"sequence", "abcdefghijklmnopq", msgSequence},
		{"email", "jane.doe@example.com", msgContext},
		{"email local part + year", "janedoe2024!!!!!", msgContext},
		{"name, leet, spaces", "J4ne D0e 2024!!!!", msgContext},
		{"name case-insensitive", "JANE DOE JANE DOE", msgContext},
		{"site name", "Acme Support rocks", msgContext},
		{"site name + digits", "acmesupport2024!", msgContext},
		{"email domain", "exampleexample12", msgContext},
		{"mentions the name among other words", "jane loves hiking in the alps", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DefaultPolicy().Check(tt.pw, ctxWords...)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if helpportal.ErrorCode(err) != helpportal.EINVALID || helpportal.ErrorMessage(err) != tt.want {
				t.Fatalf("got %v, want EINVALID %q", err, tt.want)
			}
		})
	}
}

func TestPolicyMessagesDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, pw := range []string{"short", long(300), "a\xffbcdefghijklmnop", "janedoe2024!!!!!", "password123456789",
		"horsebattery123", "iloveyouiloveyou", "abcdefghijklmnopq", "asdfghjkl;'zxcvbnm,./", "19991231 20001231"} {
		msg := helpportal.ErrorMessage(DefaultPolicy().Check(pw, ctxWords...))
		if msg == "" {
			t.Fatalf("%q: accepted or empty message", pw)
		}
		if other, dup := seen[msg]; dup {
			t.Fatalf("%q and %q share the message %q", pw, other, msg)
		}
		seen[msg] = pw
	}
}

func TestPolicyBounds(t *testing.T) {
	// A careless configuration is never weaker than the standards: MaxLength floors at 128,
	// MinLength at 8; zero values take the defaults.
	if err := (Policy{MaxLength: 20}).Check(long(128)); err != nil {
		t.Fatalf("MaxLength 20 must still allow 128 runes: %v", err)
	}
	if err := (Policy{MinLength: 4}).Check("quantum"); err == nil {
		t.Fatal("MinLength 4 must still refuse 7 runes")
	}
	if err := (Policy{}).Check("Zebra4quill!mo"); err == nil {
		t.Fatal("zero Policy must refuse 14 runes")
	}
	if err := (Policy{MinLength: 20}).Check("vanilla quantum bike"); err != nil {
		t.Fatalf("MinLength 20: %v", err)
	}
	if err := DefaultPolicy().Check("vanilla quantum bicycle", "", ""); err != nil {
		t.Fatalf("empty context strings: %v", err)
	}
}

func TestStrength(t *testing.T) {
	if s, hint := Strength(""); s != 0 || hint == "" {
		t.Fatalf("empty: %d %q", s, hint)
	}
	if s, hint := Strength("password123456789"); s > 1 || hint != msgCommon {
		t.Fatalf("refused password: %d %q", s, hint)
	}
	if s, hint := Strength("Tr0ub4dor&3", ctxWords...); s > 1 || !strings.Contains(hint, "15") {
		t.Fatalf("short password must score at most 1: %d %q", s, hint)
	}
	if s, hint := Strength("vanilla quantum bicycle orbit", ctxWords...); s < 3 || hint == "" {
		t.Fatalf("good passphrase: %d %q", s, hint)
	}
}
