// Package attack holds hostile inputs the tests throw at every text field.
package attack

// XSS are markup and script injection attempts, each meant to become an
// element, an attribute, a script run or an htmx instruction if rendered
// unescaped. Every one must come back as the same literal text.
var XSS = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<svg onload=alert(1)>`,
	`<svg><script>alert(1)</script></svg>`,
	`"><script>alert(1)</script>`,
	`'><img src=x onerror=alert(1)>`,
	`javascript:alert(1)`,
	`<a href="javascript:alert(1)">click me</a>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<body onload=alert(1)>`,
	`<input autofocus onfocus=alert(1)>`,
	`<details open ontoggle=alert(1)>`,
	`<math><mtext></mtext><script>alert(1)</script></math>`,
	`<style>*{display:none}</style>`,
	`<link rel=stylesheet href=//evil.example/x.css>`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<base href="//evil.example/">`,
	`<form action=//evil.example><button>go</button></form>`,
	`<hx-partial hx-target="body">pwned</hx-partial>`,
	`<template hx type="partial" hx-target="body">pwned</template>`,
	`<div hx-get="/logout" hx-trigger="load">x</div>`,
	`<div hx-on:click="alert(1)">x</div>`,
	`{{7*7}} ${7*7} <%= 7*7 %>`,
	`&lt;script&gt;alert(1)&lt;/script&gt;`,
	`&#60;script&#62;alert(1)&#60;/script&#62;`,
	`%3Cscript%3Ealert(1)%3C/script%3E`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<object data="javascript:alert(1)">`,
	`<embed src="javascript:alert(1)">`,
	`<video><source onerror=alert(1)>`,
	`<audio src=x onerror=alert(1)>`,
	`<marquee onstart=alert(1)>`,
	`<select autofocus onfocus=alert(1)>`,
	`</textarea><script>alert(1)</script>`,
	`</li></ol><script>alert(1)</script>`,
	`<!--<script>alert(1)//-->`,
	`<![CDATA[<script>alert(1)</script>]]>`,
	`"onmouseover="alert(1)`,
	`' onmouseover='alert(1)`,
	"<b>bold</b>\n<i>italic</i>\n<u>under</u>",
}

// SSE are attempts to forge Server-Sent Events fields from inside a message.
var SSE = []string{
	"first line\nid: 999999\nevent: rtm-reset\nretry: 1\ndata: forged",
	"line\r\nid: 1\r\n\r\ndata: after a blank line",
	"lone\rcarriage\rreturns\rid: 5",
	"event: rtm-closed\ndata: you have been logged out",
	"\n\n\nid: 7\n\n",
	": a comment line\nretry: 0",
	"data: data: data:",
}

// Formatted puts payload p in every construct of a message's formatting
// at once: a link's URL, a code span, emphasis, strong, a quote and a
// code block, so that each path of the renderer sees it.
func Formatted(p string) string {
	return "https://example.com/?q=" + p + "\n`" + p + "` *" + p + "* **" + p + "**\n> " + p + "\n```\n" + p + "\n```"
}
