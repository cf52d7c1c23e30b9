package handlers

import (
	"fmt"
	"strings"
	"testing"
)

// onlyCore is a store with nothing beyond Store.
type onlyCore struct{ Store }

// A store that lacks a resource's part fails New at once, naming the part.
func TestNewNamesAMissingStorePart(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "handlers.AccountStore") {
			t.Fatalf("want a panic naming AccountStore, got %v", p)
		}
	}()
	storesOf(onlyCore{})
}
