package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/views"
)

// linkSite is the origin of links handed out to be opened elsewhere, such
// as sign-in links: -public-url, or else the request's Host, but only when
// that Host names this server. The client chooses the Host header: trusting
// any would let a forged one (Host: evil.example) turn a sign-in link into
// one that hands its token to another site.
func (h *Handler) linkSite(r *http.Request) (string, error) {
	if h.publicURL != "" {
		return h.publicURL, nil
	}
	scheme, port := "http", "80"
	if r.TLS != nil || h.secure {
		scheme, port = "https", "443"
	}
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !hostIsOurs(r.Host, port, h.listenAddr, local) {
		return "", chat.Errorf(chat.Invalid, "No link was made: this page was reached as %q, which is not an address "+
			"this server listens on, so a link built from it could lead to another site. Open the site at its own "+
			"address, or start the server with -public-url set to the address people use (such as https://chat.example.com).", r.Host)
	}
	return scheme + "://" + r.Host, nil
}

// hostIsOurs reports whether host (a Host header; defaultPort when it names
// none) names this server: the name or address it was told to listen on
// (listen), the address the connection reached (local), or, when either is
// a loopback or unspecified address, localhost, 127.0.0.1 or [::1]. The
// port must be the one the connection reached.
func hostIsOurs(host, defaultPort, listen string, local net.Addr) bool {
	name, port, ok := splitHost(host, defaultPort)
	if !ok {
		return false
	}
	lname, lport, _ := net.SplitHostPort(listen)
	var lip netip.Addr
	if ta, isTCP := local.(*net.TCPAddr); isTCP {
		ap := ta.AddrPort()
		lip, lport = ap.Addr().Unmap(), strconv.Itoa(int(ap.Port()))
	}
	if lport == "" || port != lport {
		return false
	}
	if lname != "" && strings.EqualFold(name, lname) {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err == nil && lip.IsValid() && ip.Unmap() == lip {
		return true
	}
	return (lip.IsLoopback() || isLocalListen(lname)) && isLoopbackName(name)
}

// splitHost splits a Host header into name (IPv6 without brackets) and
// port, defaultPort when it has none.
func splitHost(host, defaultPort string) (name, port string, ok bool) {
	if name, port, err := net.SplitHostPort(host); err == nil {
		return name, port, name != "" && port != ""
	}
	if ip, found := strings.CutPrefix(host, "["); found {
		ip, found = strings.CutSuffix(ip, "]")
		_, err := netip.ParseAddr(ip)
		return ip, defaultPort, found && err == nil
	}
	return host, defaultPort, host != "" && !strings.ContainsAny(host, ":[]")
}

// isLocalListen reports whether a listen address's host part is loopback
// or unspecified (every interface, loopback included).
func isLocalListen(name string) bool {
	if name == "" || strings.EqualFold(name, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(name)
	return err == nil && (ip.IsLoopback() || ip.IsUnspecified())
}

func isLoopbackName(name string) bool {
	return strings.EqualFold(name, "localhost") || name == "127.0.0.1" || name == "::1"
}

// SignInLinkURL is the address of a sign-in link (an invitation, or a
// fresh start for someone who forgot their password) on site.
func SignInLinkURL(site, token string) string { return site + "/welcome/" + token }

// inviteLink is the address an invited person opens, on site.
func inviteLink(site string, inv chat.Invite) views.InviteLink {
	return views.InviteLink{
		Person:  inv.Person,
		URL:     SignInLinkURL(site, inv.Token),
		Expires: inv.Expires.UTC().Format("2 Jan 2006 15:04 UTC"),
	}
}
