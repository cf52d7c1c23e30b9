package chat

import (
	"strings"
	"testing"
)

func TestSearchWords(t *testing.T) {
	for q, want := range map[string]string{
		"hello world":           "hello world",
		`"AND" OR -x:y NEAR(a)`: "AND OR x y NEAR a",
		"naïve café 東京 ✓":       "naïve café 東京",
		"  deploy-2026 ":        "deploy 2026",
	} {
		got, err := SearchWords(q)
		if err != nil || strings.Join(got, " ") != want {
			t.Errorf("%q → %q, %v; want %q", q, got, err, want)
		}
	}
	for _, q := range []string{"", "  ", `"*" - :`, strings.Repeat("a", MaxSearchRunes+1), strings.Repeat("a ", MaxSearchWords+1)} {
		if _, err := SearchWords(q); CodeOf(err) != Invalid {
			t.Errorf("%.20q: %v, want invalid", q, err)
		}
	}
}
