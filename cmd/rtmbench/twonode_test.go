package main

import (
	"context"
	"strings"
	"testing"
)

// Without PostgreSQL or Redis, the default run goes on without workload
// 2n and says why in one line; asked for by name, 2n fails instead.
func TestTwoNodesSkipsWithoutServices(t *testing.T) {
	for _, c := range []cluster{
		{postgres: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", redis: "redis://127.0.0.1:6379/0"},
		{postgres: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", redis: "redis://127.0.0.1:1/0"},
	} {
		var out strings.Builder
		rows, err := twoNodesOrSkip(context.Background(), nil, c, false, &out, 1, 0)
		if err != nil || rows != nil {
			t.Fatalf("%+v: got %v, %v; want no rows, no error", c, rows, err)
		}
		line := out.String()
		if !strings.HasPrefix(line, "workload 2n (two nodes) skipped: no ") || strings.Count(line, "\n") != 1 {
			t.Errorf("%+v: skip line %q", c, line)
		}
		if _, err := twoNodesOrSkip(context.Background(), nil, c, true, &out, 1, 0); err == nil {
			t.Errorf("%+v: asked for by name, 2n did not fail", c)
		}
	}
}
