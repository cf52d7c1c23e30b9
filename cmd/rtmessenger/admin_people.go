package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/rtmessenger/rtmessenger/chat"
	"github.com/rtmessenger/rtmessenger/handlers"
	"github.com/rtmessenger/rtmessenger/internal/pwhash"
	"github.com/rtmessenger/rtmessenger/store"
)

// The account commands of `admin`.

func createAdmin(ctx context.Context, a *adminRun, name string) error {
	name, err := chat.CleanUsername(name)
	if err != nil {
		return err
	}
	password, err := a.readPassword(name)
	if err != nil {
		return err
	}
	if err := chat.CheckPassword(password); err != nil {
		return err
	}
	u, err := a.st.CreateAdmin(ctx, name, pwhash.Hash(password, pwhash.Params{}), store.CommandLine)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "created %s (id %d), an admin\n", u.Name, u.ID)
	return err
}

func (a *adminRun) setAdmin(ctx context.Context, name string, admin bool) error {
	u, err := a.st.SetAdmin(ctx, name, admin, store.CommandLine)
	if err != nil {
		return err
	}
	state := "an ordinary account"
	if u.Admin {
		state = "an admin"
	}
	_, err = fmt.Fprintf(a.out, "%s is %s\n", u.Name, state)
	return err
}

// signInLink prints a fresh one-time link, as the person page's "Make a
// sign-in link" button gives an admin.
func signInLink(ctx context.Context, a *adminRun, name string) error {
	inv, err := a.st.CreateSignInLink(ctx, name, store.CommandLine)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "one-time sign-in link for %s, valid until %s (it replaces any unused earlier one):\n%s\n",
		inv.Person.Name, inv.Expires.UTC().Format("2 Jan 2006 15:04 UTC"), handlers.SignInLinkURL(a.publicURL, inv.Token))
	return err
}

// setActive deactivates or reactivates an account. Deactivating ends
// its sessions, as the person page does; the server's open streams of
// them end at their next session check (every heartbeat).
func (a *adminRun) setActive(ctx context.Context, name string, active bool) error {
	u, err := a.st.SetDeactivated(ctx, name, !active, store.CommandLine)
	if err != nil {
		return err
	}
	if active {
		_, err = fmt.Fprintf(a.out, "%s is active\n", u.Name)
		return err
	}
	ended, err := a.st.DeleteSessionsOf(ctx, handlers.SessionOf(u.ID))
	if err != nil {
		return fmt.Errorf("%s is deactivated, but ending their sessions failed (run end-sessions): %w", u.Name, err)
	}
	_, err = fmt.Fprintf(a.out, "%s is deactivated; %d sessions ended\n", u.Name, ended)
	return err
}

func endSessions(ctx context.Context, a *adminRun, name string) error {
	p, err := a.st.Person(ctx, name)
	if err != nil {
		return err
	}
	ended, err := a.st.DeleteSessionsOf(ctx, handlers.SessionOf(p.ID))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.out, "%d sessions of %s ended\n", ended, p.Name)
	return err
}

// readPassword reads a new password for name: from -password-file (- is
// standard input), else asked for twice on the terminal without echo,
// else the first line of standard input.
func (a *adminRun) readPassword(name string) (string, error) {
	if a.passwordFile != "" && a.passwordFile != "-" {
		b, err := os.ReadFile(a.passwordFile)
		if err != nil {
			return "", fmt.Errorf("-password-file: %w", err)
		}
		return firstLine(string(b)), nil
	}
	if f, ok := a.stdin.(*os.File); ok && a.passwordFile == "" && term.IsTerminal(int(f.Fd())) {
		return askPassword(f, a.out, name)
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if line == "" {
		return "", errors.New("no password: give -password-file, or the password on standard input")
	}
	return firstLine(line), nil
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

func askPassword(tty *os.File, out io.Writer, name string) (string, error) {
	fmt.Fprintf(out, "Password for %s: ", name)
	p1, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(out)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	fmt.Fprint(out, "Again: ")
	p2, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(out)
	if err != nil {
		return "", fmt.Errorf("read the password: %w", err)
	}
	if string(p1) != string(p2) {
		return "", errors.New("the two passwords differ; nothing was created")
	}
	return string(p1), nil
}
