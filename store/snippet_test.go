package store

import (
	"strings"
	"testing"
)

func TestSnippetOf(t *testing.T) {
	long := strings.Repeat("filler ", 30)
	for _, tc := range []struct {
		body  string
		words []string
		want  string // matches in [brackets]
	}{
		{"Lunch at noon?", []string{"lunch"}, "[Lunch] at noon?"},
		{`<b>"quoted"</b> text`, []string{"quoted"}, `<b>"[quoted]"</b> text`},
		{"no match here", []string{"zebra"}, "no match here"},
		{"cat catalog Cat", []string{"cat"}, "[cat] catalog [Cat]"},
		{long + "needle " + long, []string{"needle"}, "…filler filler filler filler [needle] " + strings.TrimSuffix(strings.Repeat("filler ", 15), " ") + "…"},
	} {
		var b strings.Builder
		for _, sp := range snippetOf(tc.body, tc.words) {
			if sp.Match {
				b.WriteString("[" + sp.Text + "]")
			} else {
				b.WriteString(sp.Text)
			}
		}
		if got := b.String(); got != tc.want {
			t.Errorf("snippetOf(%q, %q)\n got %q\nwant %q", tc.body, tc.words, got, tc.want)
		}
	}
	if got := snippetOf("", []string{"x"}); len(got) != 0 {
		t.Errorf("empty body: %+v", got)
	}
}
