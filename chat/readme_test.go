package chat

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The README shows how a host site's server signs a token in Python; this
// runs that very code and verifies the token it makes, so the example
// cannot drift from the format. (Skipped where no python3 is installed:
// it is a check of documentation, not of the server.)
func TestREADMEPythonTokenExample(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: the README's Python example is not checked")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```python\n")
	code, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 || !strings.Contains(code, "def embed_token") {
		t.Fatal("the README has no Python token example")
	}
	script := code + "\nprint(embed_token('s3cret', 3, 'user-7', 'Dana', [7, 9]))\n"
	out, err := exec.Command(python, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	c, err := VerifyEmbedToken(strings.TrimSpace(string(out)), []byte("s3cret"), 3, 9, time.Now())
	if err != nil || c.Sub != "user-7" || c.Name != "Dana" {
		t.Fatalf("the README's token: %+v, %v", c, err)
	}
}

// The same for the README's Go example: it is compiled and run as written.
func TestREADMEGoTokenExample(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(readme), "```go\nfunc embedToken")
	code, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the README has no Go token example")
	}
	dir := t.TempDir()
	prog := `package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

func main() { fmt.Println(embedToken("s3cret", 3, "user-7", "Dana", []int64{7})) }

func embedToken` + code
	if err := os.WriteFile(dir+"/main.go", []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/go.mod", []byte("module example\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	c, err := VerifyEmbedToken(strings.TrimSpace(string(out)), []byte("s3cret"), 3, 7, time.Now())
	if err != nil || c.Sub != "user-7" {
		t.Fatalf("the README's token: %+v, %v", c, err)
	}
}
