package pwhash

import (
	"strings"
	"testing"
)

func TestHashesAreArgon2idWithOWASPCost(t *testing.T) {
	h := Hash("correct horse", Params{})
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if !Verify("correct horse", h) || Verify("correct horsf", h) || Verify("correct horse", h[:len(h)-2]) {
		t.Fatal("verify")
	}
	if h == Hash("correct horse", Params{}) {
		t.Fatal("hashes must be salted")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=x$a$b", "plain"} {
		if Verify("x", bad) {
			t.Errorf("verify accepted %q", bad)
		}
	}
}

// A hash records its own cost: one made cheaply still verifies.
func TestHashRecordsItsCost(t *testing.T) {
	h := Hash("pw", Params{MemoryKiB: 64, Passes: 1, Lanes: 1})
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || !Verify("pw", h) {
		t.Fatalf("hash %q", h)
	}
}
