package views

import (
	"sort"

	"github.com/a-h/templ"
	"github.com/rtmessenger/rtmessenger/chat"
)

// marks are the @names a message mentions, as found in its whole body
// (exactly as the store found them), in order. Text nodes are marked by
// offset, so formatting around a name changes nothing about it.
type marks []chat.MentionToken

func mentionMarks(m chat.Message) marks {
	if len(m.Mentions) == 0 && !m.MentionsRoom {
		return nil
	}
	var out marks
	for _, t := range chat.ParseMentions(m.Body) {
		if m.MentionedName(t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// bodyPart is a stretch of a text node: text, or a mention to mark.
type bodyPart struct {
	Text    string
	Mention bool
}

// parts splits text node n around the mentions wholly inside it; nil
// when there are none (most nodes), which is n as it is.
func (ms marks) parts(n chat.Node) []bodyPart {
	end := n.Start + len(n.Text)
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Start >= n.Start })
	if i == len(ms) || ms[i].End > end {
		return nil
	}
	var parts []bodyPart
	at := n.Start
	for _, t := range ms[i:] {
		if t.End > end {
			break
		}
		if t.Start > at {
			parts = append(parts, bodyPart{Text: n.Text[at-n.Start : t.Start-n.Start]})
		}
		parts = append(parts, bodyPart{Text: n.Text[t.Start-n.Start : t.End-n.Start], Mention: true})
		at = t.End
	}
	if at < end {
		parts = append(parts, bodyPart{Text: n.Text[at-n.Start:]})
	}
	return parts
}

// linkURL is a link's href: the URL exactly as the parser validated it
// (chat.ValidLink: http or https, with a host), so it needs no rewriting.
func linkURL(n chat.Node) templ.SafeURL { return templ.SafeURL(n.Text) }

// linkTitle is the whole URL of a link shown shortened, else nothing.
func linkTitle(n chat.Node) (label, title string) {
	label, short := chat.LinkLabel(n.Text)
	if short {
		title = n.Text
	}
	return label, title
}
