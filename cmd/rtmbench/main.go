// Command rtmbench measures RT Messenger the way users feel it. It starts
// the real server binary on loopback, drives it through the public HTTP
// contract (form posts, GET /events), and reports delivery latency from each
// post's scheduled time to its arrival at every member, throughput, CPU and
// memory per delivery and per stream. Workload 2n also runs the chat mix
// on PostgreSQL, on one node and then on two nodes joined by the Redis
// bus, when both answer. Run it from the repository root:
//
//	go run ./cmd/rtmbench          # short run, under 3 minutes
//	go run ./cmd/rtmbench -full    # the full sizes
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rtmbench:", err)
		os.Exit(1)
	}
}

type sizes struct {
	users      int
	idle       []int
	idleWindow time.Duration
	rates      []float64
	step       time.Duration
	mixRate    float64
	mixFor     time.Duration
	storm      int
	stormRate  float64
	writers    int
	writeFor   time.Duration
	limit      time.Duration
}

var short = sizes{
	users: 2000, idle: []int{1000}, idleWindow: 16 * time.Second,
	rates: []float64{25, 50, 100, 150, 200, 300, 400}, step: 4 * time.Second,
	mixRate: 500, mixFor: 8 * time.Second, storm: 1000, stormRate: 100,
	writers: 64, writeFor: 5 * time.Second, limit: 6 * time.Minute,
}

var full = sizes{
	users: 10000, idle: []int{1000, 5000, 10000}, idleWindow: 30 * time.Second,
	rates: []float64{25, 50, 75, 100, 150, 200, 300, 400}, step: 10 * time.Second,
	mixRate: 500, mixFor: 30 * time.Second, storm: 5000, stormRate: 200,
	writers: 64, writeFor: 15 * time.Second, limit: 25 * time.Minute,
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rtmbench", flag.ContinueOnError)
	out := fs.String("out", "bench-out", "folder for the database, binary and JSON results")
	bin := fs.String("bin", "", "server binary (default: build ./cmd/rtmessenger into -out)")
	doFull := fs.Bool("full", false, "run the full sizes (about 15 minutes)")
	only := fs.String("only", "", "comma-separated workloads to run (default all: 1,1w,2,2w,3,3t,3e,2n,4,5,6; w is WebSocket, 3t adds typing and presence to 3, 3e edits and reactions, each running 3 too; 2n is the chat mix on PostgreSQL on 1 node, then on 2 nodes joined by the Redis bus, skipped by default where either does not answer)")
	pgURL := fs.String("postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL for workload 2n: it creates a database there for the run and drops it after")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379/0", "Redis for workload 2n's bus (a channel of the run's own)")
	profile := fs.Bool("profile", false, "save CPU profiles of the server during workloads 3, 4 and 6 into -out")
	show := fs.Bool("show", false, "print the table of the last run saved in -out, and run nothing")
	serverFlags := fs.String("server-flags", "", "more flags for every server started (space-separated), e.g. -sync-full")
	mixRate := fs.Float64("mix-rate", 0, "posts per second of the chat mix workloads (default 500)")
	lobbyEvery := fs.Int64("lobby-every", defaultLobbyEvery, "send every n-th post of the chat mix workloads (3, 3t, 3e, 4, 5, 2n) to the 1,000-member lobby, the rest to the rooms of 20; 0 sends none there (the lobby's waves of deliveries then stay out of the figures)")
	warmUp := fs.Duration("warm-up", 0, "post at the chat mix's rate this long, unmeasured, before each chat mix workload: its figures then describe a server in its stride, not one filling its caches")
	rates := fs.String("rates", "", "comma-separated post rates of the fan-out steps (default 25 to 400); a machine with more cores needs higher ones")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *show {
		return showSummary(*out, stdout)
	}
	if *lobbyEvery < 0 {
		return fmt.Errorf("-lobby-every %d: want 0 (no lobby posts) or more", *lobbyEvery)
	}
	sz := short
	if *doFull {
		sz = full
	}
	if *mixRate > 0 {
		sz.mixRate = *mixRate
	}
	if *rates != "" {
		steps, err := parseRates(*rates)
		if err != nil {
			return err
		}
		sz.rates = steps
	}
	ctx, cancel := context.WithTimeout(context.Background(), sz.limit)
	defer cancel()
	want := func(n string) bool { return *only == "" || strings.Contains(","+*only+",", ","+n+",") }

	e, err := prepare(ctx, *out, *bin, sz.users)
	if err != nil {
		return err
	}
	e.profile = *profile
	e.warmUp = *warmUp
	e.lobbyEvery = *lobbyEvery
	e.flags = append(e.flags, strings.Fields(*serverFlags)...)
	var rows []result
	add := func(r result, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
		rows = append(rows, r)
		fmt.Fprintf(os.Stderr, "done: %s\n", r.Name)
		return save(*out, r)
	}
	for _, socket := range []bool{false, true} {
		if !want(map[bool]string{false: "1", true: "1w"}[socket]) {
			continue
		}
		for _, n := range sz.idle {
			if n > len(e.accts) {
				continue
			}
			if err := add(idle(ctx, e, n, sz.idleWindow, socket)); err != nil {
				return err
			}
		}
	}
	for _, socket := range []bool{false, true} {
		if !want(map[bool]string{false: "2", true: "2w"}[socket]) {
			continue
		}
		best, err := fanout(ctx, e, sz.rates, sz.step, socket, func(r result) {
			fmt.Fprintf(os.Stderr, "  step %s: %.0f deliveries/s, p99 %.2f ms, %d/%d delivered\n", r.Config, r.DeliveriesPerSec, r.P99, r.Delivered, r.Expected)
		})
		if err := add(best, err); err != nil {
			return err
		}
	}
	var mixP99 float64
	addAll := func(rs []result, err error) error {
		for _, r := range rs {
			if err := add(r, nil); err != nil {
				return err
			}
		}
		return err
	}
	if want("3") || want("3t") || want("3e") { // 3t and 3e run on 3's server, after it
		mixRows, err := mixThen(ctx, e, sz.mixRate, sz.mixFor, want("3t"), want("3e"))
		if err := addAll(mixRows, err); err != nil {
			return err
		}
		mixP99 = mixRows[0].P99
	}
	if want("2n") {
		c := cluster{postgres: *pgURL, redis: *redisURL}
		if err := addAll(twoNodesOrSkip(ctx, e, c, *only != "", stdout, sz.mixRate, sz.mixFor)); err != nil {
			return err
		}
	}
	if want("4") {
		r, err := mix(ctx, e, "4 slow readers", sz.mixRate, sz.mixFor, 100)
		if mixP99 > 0 {
			r.Note = fmt.Sprintf("others' p99 %.2f ms vs %.2f ms without stalled readers", r.P99, mixP99)
		}
		if err := add(r, err); err != nil {
			return err
		}
	}
	if want("5") {
		if err := add(storm(ctx, e, sz.storm, sz.stormRate)); err != nil {
			return err
		}
	}
	if want("6") {
		if err := add(write(ctx, e, sz.writers, sz.writeFor)); err != nil {
			return err
		}
	}
	printTable(stdout, rows)
	return saveSummary(*out, rows, *doFull)
}

func save(out string, r result) error {
	b, _ := json.MarshalIndent(r, "", "  ")
	name := strings.NewReplacer(" ", "-", "/", "-").Replace(r.Name)
	return os.WriteFile(filepath.Join(out, name+".json"), b, 0o644)
}

func saveSummary(out string, rows []result, isFull bool) error {
	commit, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	b, _ := json.MarshalIndent(map[string]any{
		"when":    time.Now().UTC().Format(time.RFC3339),
		"commit":  strings.TrimSpace(string(commit)),
		"full":    isFull,
		"cpus":    runtime.NumCPU(),
		"go":      runtime.Version(),
		"results": rows,
	}, "", "  ")
	return os.WriteFile(filepath.Join(out, "summary.json"), b, 0o644)
}

func printTable(w io.Writer, rows []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tstreams\tposts/s\tdeliveries/s\tp50 ms\tp99 ms\tp99.9 ms\tCPU µs/deliv\tB/deliv\tRSS MB\tKB/stream\tmissing\tdup\tooo\tCPU srv/gen %\tother\t")
	for _, r := range rows {
		other := r.Note
		switch {
		case r.CatchUpSeconds > 0:
			other = fmt.Sprintf("caught up in %.2f s; %s", r.CatchUpSeconds, r.Note)
		case r.PostP99 > 0:
			other = fmt.Sprintf("POST p50 %.2f ms, p99 %.2f ms; %s", r.PostP50, r.PostP99, r.Note)
		case r.IdleCPUPercent > 0 || r.GoroutinesPerStream > 0:
			other = fmt.Sprintf("%.2f goroutines/stream, idle CPU %.2f%%; %s", r.GoroutinesPerStream, r.IdleCPUPercent, r.Note)
		case r.StalledCut != "":
			other = fmt.Sprintf("stalled cut %s; %s", r.StalledCut, r.Note)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%.0f\t%.1f\t%.1f\t%d\t%d\t%d\t%.0f/%.0f\t%s\t\n",
			r.Name, r.Streams, r.PostsPerSec, r.DeliveriesPerSec, r.P50, r.P99, r.P999, r.CPUPerDeliveryUs,
			r.BytesPerDelivery, r.RSSMB, r.RSSPerStreamKB, max(r.Expected-r.Delivered, 0), r.Duplicates, r.OutOfOrder,
			r.ServerCPUPercent, r.GeneratorCPUPercent, strings.TrimSuffix(other, "; "))
	}
	tw.Flush()
}

func showSummary(out string, w io.Writer) error {
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		return err
	}
	var sum struct {
		When    string   `json:"when"`
		Commit  string   `json:"commit"`
		Full    bool     `json:"full"`
		Results []result `json:"results"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s, commit %s, full sizes: %v\n", sum.When, sum.Commit, sum.Full)
	printTable(w, sum.Results)
	return nil
}

// parseRates reads -rates: positive numbers, rising, since the fan-out stops
// at the first step that misses its bound.
func parseRates(list string) ([]float64, error) {
	var steps []float64
	for _, field := range strings.Split(list, ",") {
		rate, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
		if err != nil || !(rate > 0) || math.IsInf(rate, 1) {
			return nil, fmt.Errorf("-rates: %q is not a positive number of posts per second", field)
		}
		if len(steps) > 0 && rate <= steps[len(steps)-1] {
			return nil, fmt.Errorf("-rates: steps must rise (%v after %v)", rate, steps[len(steps)-1])
		}
		steps = append(steps, rate)
	}
	return steps, nil
}
