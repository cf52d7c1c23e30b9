# RT Messenger. Needs only Go; everything else is fetched or skipped with a message.
.DEFAULT_GOAL := help
.PHONY: help run test test-short fuzz bench bench-full build dist generate lint fmt vendor-htmx clean

ADDR ?= 127.0.0.1:8080
DB   ?= data/rtmessenger.db
# Stamped into the binaries that build, run and dist make (rtmessenger -version).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
DIST_PLATFORMS := linux/amd64 linux/arm64
HTMX_VERSION := 4.0.1
HTMX_FILES   := htmx.min.js ext/hx-sse.min.js ext/hx-ws.min.js ext/hx-upsert.min.js

# Fuzz targets, as package:Target. `make test` runs each briefly, for a
# count of inputs rather than a time: with a time, Go 1.26's fuzzer can
# fail a busy machine's run with "context deadline exceeded" as the time
# runs out (golang/go#75804, fixed in Go 1.27).
FUZZ_TARGETS := ./chat:FuzzCleaners ./chat:FuzzParsePeopleCSV ./chat:FuzzParseMarkup ./views:FuzzMessageRender ./views:FuzzMarkup ./hub:FuzzSSEFraming
FUZZTIME ?= 1m

# The race detector needs cgo and a C compiler; without them tests still run.
# Some libraries are left uninstrumented, each touching only its own state
# behind its own locks (the sync package they lock with still tells the
# detector what happens before what):
#   - SQLite's translated C (modernc.org/sqlite/lib) with its C runtime
#     and allocator (-race=false also drops checkptr, which -race brings):
#     instrumented, the handler tests took twice as long, half of it
#     checking SQLite's own pointers. Not the Go driver (modernc.org/sqlite):
#     left out, it made the detector report false races in encoding/json;
#   - the brotli encoder and the minifier the static files go through once:
#     instrumented, a server took 6 s of CPU to serve its first pages, in
#     each browser test.
# Races on memory only they touch go unreported. internal/e2e builds its
# servers with the same flags (raceFlags; a test holds the lists equal).
RACE := $(shell [ "$$(go env CGO_ENABLED)" = 1 ] && command -v "$$(go env CC)" >/dev/null 2>&1 && echo -race -gcflags=modernc.org/sqlite/lib=-race=false -gcflags=modernc.org/libc/...=-race=false -gcflags=modernc.org/memory=-race=false -gcflags=github.com/andybalholm/brotli/...=-race=false -gcflags=github.com/tdewolff/...=-race=false)

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Built first, with a word on what is going on: the first build downloads
# modules and compiles SQLite, minutes of silence otherwise.
run: ## build bin/rtmessenger, then start it on $(ADDR) with the SQLite database $(DB)
	@echo "building RT Messenger (the first run downloads modules and compiles, a few minutes)…"
	@go build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/rtmessenger ./cmd/rtmessenger
	@exec bin/rtmessenger -addr $(ADDR) -db $(DB)

# -timeout is a hang detector, not a speed bound: alone on CI's two cores
# the slowest package (internal/e2e/xss) takes about 4 minutes, but beside
# another `go test -race ./...` it measured over 8. 15 minutes leaves room.
#
# -p 4: the browser packages mostly wait (timers, a browser's round trips),
# using about a third of two cores, so four packages at once share them
# better than two (the default on two cores): 476 → 417 s on one machine.
#
# A test that skips for a missing tool (Chromium) leaves a line in the
# directory $RTM_TEST_NOTES names; `make test` prints each distinct line with
# its count at the end, so a skipped test never passes for a tested one.
test: ## run every test (with -race when a C compiler is available), then each fuzz target briefly
	@[ -n "$(RACE)" ] || echo "note: no C compiler for cgo, running tests without -race"
	@notes=$$(mktemp -d) && server=$$(mktemp -d) && trap 'rm -rf "$$notes" "$$server"' EXIT; \
	echo "go build $(RACE) -o $$server/rtmessenger ./cmd/rtmessenger  (the browser tests' server)"; \
	go build $(RACE) -o "$$server/rtmessenger" ./cmd/rtmessenger && \
	echo "go test $(RACE) -p 4 -count=1 -timeout 15m ./..." && \
	RTM_E2E_SERVER="$$server/rtmessenger" RTM_TEST_NOTES="$$notes" go test $(RACE) -p 4 -count=1 -timeout 15m ./... && \
	echo "RTM_TEST_ENGINE=postgres go test $(RACE) -count=1 ./store  (the store's contract on PostgreSQL)" && \
	RTM_TEST_NOTES="$$notes" RTM_TEST_ENGINE=postgres go test $(RACE) -count=1 -timeout 8m ./store && \
	$(MAKE) --no-print-directory fuzz FUZZTIME=1000x; status=$$?; \
	cat "$$notes"/* 2>/dev/null | sort | uniq -c | \
	awk '{ n = $$1; sub(/^ *[0-9]+ /, ""); printf "%s (%d test%s)\n", $$0, n, n == 1 ? "" : "s" }'; \
	exit $$status

fuzz: ## run each fuzz target for FUZZTIME (default 1m)
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

test-short: ## quick tests: skips the browser and other slow tests
	go test -short -count=1 ./...

bench: ## load-test a real server (short sizes, under 3 minutes) and run the micro-benchmarks
	go run ./cmd/rtmbench -out bench-out
	go test -run '^$$' -bench . -benchtime 1s ./views ./store ./hub ./handlers

bench-full: ## load-test at the full sizes (about 15 minutes); results in bench-out-full/
	go run ./cmd/rtmbench -full -out bench-out-full

build: ## build bin/rtmessenger
	go build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/rtmessenger ./cmd/rtmessenger

dist: ## static release binaries for linux/amd64 and linux/arm64 in dist/, stamped with their version
	@rm -rf dist && mkdir -p dist
	@for p in $(DIST_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/rtmessenger-$$os-$$arch; \
		echo "$$out ($(VERSION))"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath \
			-ldflags "-s -w -X main.version=$(VERSION)" -o $$out ./cmd/rtmessenger || exit 1; \
	done
	@cd dist && sha256sum rtmessenger-* > SHA256SUMS

generate: ## regenerate templ output (commit the *_templ.go files)
	go tool templ generate

fmt: ## format Go and templ sources (and regenerate templ output)
	go tool templ fmt views
	go tool templ generate
	gofmt -w $$(git ls-files '*.go')

lint: ## gofmt, templ fmt, go vet and staticcheck must all be clean
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	@go tool templ fmt -fail views >/dev/null 2>&1 || { echo "templ fmt needed: run make fmt"; exit 1; }
	go vet ./...
	go tool staticcheck ./...

vendor-htmx: ## refresh static/vendor/htmx from the npm package htmx.org@$(HTMX_VERSION)
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	curl -fsSL https://registry.npmjs.org/htmx.org/-/htmx.org-$(HTMX_VERSION).tgz | tar -xz -C $$tmp && \
	for f in $(HTMX_FILES); do cp $$tmp/package/dist/$$f static/vendor/htmx/; done && \
	cp $$tmp/package/LICENSE static/vendor/htmx/LICENSE && \
	echo "static/vendor/htmx refreshed from htmx.org@$(HTMX_VERSION)"

clean: ## remove build output (keeps the database)
	rm -rf bin dist
