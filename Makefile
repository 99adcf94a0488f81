# instancehub: `make run` serves the portal, `make test` runs every test.
# Both install what they need on a fresh machine: npm packages from the
# lockfile, Go modules and tools (the `tool` lines of go.mod), and, for the
# browser tests, Debian's Chromium; for the offline instances' applications,
# Debian's Jupyter Notebook and bubblewrap, the sandbox each runs in; for the
# PostgreSQL store's tests, Debian's PostgreSQL.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

BIN         := bin/instancehub
ADDR        ?= 127.0.0.1:8080
DATA        ?= ./data
CHROMIUM    ?= /usr/bin/chromium
JUPYTER     ?= /usr/bin/jupyter
BWRAP       ?= /usr/bin/bwrap
DRIVER_DIR  := $(CURDIR)/.pw-driver
TEMPL_SRC   := $(wildcard views/*.templ)
GO_SRC      := $(shell find . -name '*.go' -not -path './node_modules/*' -not -name '*_test.go')
export CGO_ENABLED := 0
# Go 1.27.3 fixes the standard library's known vulnerabilities of 1.26.8; the
# module proxy serves it as a toolchain, fetched once per machine.
export GOTOOLCHAIN := go1.27.3
# The Go vulnerability database as the golang.org/x/vulndb module publishes
# it; the module proxy serves it, so `make vulncheck` reaches no other host.
VULNDB_MODULE := golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
VULNDB        := .cache/vulndb/$(lastword $(subst @, ,$(VULNDB_MODULE)))
# How long `make fuzz` runs each fuzz target, and `make test` after the tests.
FUZZTIME      ?= 30s
TEST_FUZZTIME ?= 2s

.PHONY: build run test test-ahead test-race cc fuzz azure-specs check check-deploy check-metrics check-openapi vulncheck bench bench-http bench-api bench-scale bench-streams bench-replicas screenshots deps generate clean chromium jupyter bubblewrap postgres wrk jupyterhub nginx deploy-tools e2e-driver

## build: generate the templates, fetch htmx and build bin/instancehub
build: $(BIN)

VENDOR := static/vendor/htmx.min.js static/vendor/htmx-ext-sse.min.js static/vendor/xterm/xterm.js static/vendor/xterm/fit.js

$(BIN): deps generate $(VENDOR) $(GO_SRC)
	go build -trimpath -o $(BIN) ./cmd/instancehub

## run: build and serve the portal on $(ADDR) with data in $(DATA)
run: build jupyter bubblewrap
	./$(BIN) serve --addr $(ADDR) --data $(DATA) --bwrap $(BWRAP)

## deps: npm packages from package-lock.json and the Go modules
deps: node_modules/.package-lock.json
	go mod download

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

# htmx's extension for Server-Sent Events: the pages' rows and details
# listen for their instances' changes at /events instead of polling.
static/vendor/htmx-ext-sse.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx-ext-sse/dist/sse.min.js $@

# xterm.js 3.8, the release Debian's Jupyter Notebook was built for, as the
# browser build its terminal page loads in place of Debian's, which is
# CommonJS and does not run in a browser (see localapps).
static/vendor/xterm/xterm.js: node_modules/.package-lock.json
	mkdir -p static/vendor/xterm
	cp node_modules/xterm/dist/xterm.js $@

static/vendor/xterm/fit.js: node_modules/.package-lock.json
	mkdir -p static/vendor/xterm
	cp node_modules/xterm/dist/addons/fit/fit.js $@

## generate: turn views/*.templ into Go
generate:
	go tool templ generate -path views >/dev/null 2>&1

## test: every test, browser tests included (installs Chromium, Jupyter,
## bubblewrap and, for the portal behind a reverse proxy, nginx if missing),
## the clock-keeping packages' tests a year ahead (test-ahead), then each fuzz
## target for $(TEST_FUZZTIME)
test: build chromium jupyter bubblewrap postgres nginx e2e-driver
	PLAYWRIGHT_DRIVER_PATH=$(DRIVER_DIR) INSTANCEHUB_CHROMIUM=$(CHROMIUM) INSTANCEHUB_JUPYTER=$(JUPYTER) go test -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory test-ahead
	@$(MAKE) --no-print-directory test-race
	$(call fuzz-each,$(TEST_FUZZTIME))

## test-race: the packages where goroutines meet (serving and shutting down,
## operations driven in the background while their answers are written,
## sandboxes' output) under the race detector, which found three races there
## that the tests passed over. The engine's own tests are left out: under
## the detector's pointer checks, SQLite's transpiled C stops them
## (unsafe.Slice: len out of range); cmd/instancehub drives the engine all
## the same.
RACE_PKGS ?= ./cmd/instancehub/ ./web/ ./service/ ./localapps/ ./apps/
test-race: build bubblewrap postgres jupyter cc
	CGO_ENABLED=1 INSTANCEHUB_JUPYTER=$(JUPYTER) go test -race -count=1 -timeout 30m $(RACE_PKGS)

## cc: Debian's C compiler, which the race detector's runtime links with
cc:
	@if ! command -v gcc >/dev/null; then \
		echo "installing gcc (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq gcc libc6-dev >/dev/null; \
	fi
	@command -v gcc >/dev/null || { echo "gcc is not installed; go test -race needs it"; exit 1; }

## test-ahead: the tests of the packages that keep time (the root's rules,
## the store, the emulator) on a clock moved a year ahead: a copy of the Go
## toolchain whose time.Now reads 366 days late, so a test whose fixture holds
## a date the code compares with now fails here the day it is written, not a
## week later on main
# Outside the checkout, where the find and grep of the other targets would
# take its sources for ours; one copy per toolchain version.
AHEAD_GOROOT := $(HOME)/.cache/instancehub/$(GOTOOLCHAIN)-a-year-ahead
AHEAD_PKGS   ?= . ./service/ ./engine/ ./scheduler/ ./store/ ./azure/emulator/
test-ahead: postgres
	@if ! grep -q 'a year ahead' $(AHEAD_GOROOT)/src/time/time.go 2>/dev/null; then \
		rm -rf $(AHEAD_GOROOT) && mkdir -p $(dir $(AHEAD_GOROOT)); \
		cp -r "$$(go env GOROOT)" $(AHEAD_GOROOT) && chmod -R u+w $(AHEAD_GOROOT); \
		sed -i 's|^\tsec, nsec, mono := runtimeNow()$$|&\n\tsec += 366 * 86400 // instancehub: the clock moved a year ahead|' $(AHEAD_GOROOT)/src/time/time.go; \
		grep -q 'a year ahead' $(AHEAD_GOROOT)/src/time/time.go || { echo "test-ahead: time.Now not found in the toolchain's time.go"; exit 1; }; \
	fi
	GOTOOLCHAIN=local GOROOT=$(AHEAD_GOROOT) $(AHEAD_GOROOT)/bin/go test -count=1 $(AHEAD_PKGS)

## fuzz: each fuzz target for $(FUZZTIME); a failing input is written to the
## target's testdata/fuzz, where it stays as a test case once committed
fuzz:
	$(call fuzz-each,$(FUZZTIME))

# fuzz-each fuzzes every Fuzz function of every test file for $(1), one at a
# time: go test -fuzz takes one target of one package. The list comes from
# the sources rather than `go test -list`, which would run the browser
# tests' TestMain.
define fuzz-each
@files=$$(grep -rlE --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*\(' . | sort || true); \
	for file in $$files; do \
		for target in $$(grep -oE '^func Fuzz[A-Za-z0-9_]*' "$$file" | cut -d' ' -f2); do \
			echo "go test -fuzz $$target -fuzztime $(1) $$(dirname "$$file")"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(1) "$$(dirname "$$file")"; \
		done; \
	done
endef

## bench: the benchmarks of the list page, the refresh and the store
bench: build
	go test -run '^$$' -bench . -benchmem ./...

## bench-http: the load benchmark: seeds N instances (default 1000) through
## the create form of the real server, signs 100 people in, then drives
## each page as browsers ask (cache hits and renders, identity and
## gzip, spread over the sessions, every answer checked) three times beside
## a static server sending the same bytes, with wrk (Debian's, installed if
## missing), and prints median req/s and p99 (min-max), the share of that
## ceiling and the load average
N ?= 1000
bench-http: build wrk
	go run ./internal/tools/benchhttp -bin $(BIN) -n $(N)

## bench-streams: the load script of the pages' streams of changes: signs
## 50 people in and opens STREAMS (default 1000) streams at /events over their
## sessions, as open pages listening, and prints the portal's RSS before and
## with them, and how long a create's first event takes to reach them all
STREAMS ?= 1000
bench-streams: build
	go run ./internal/tools/benchstreams -bin $(BIN) -n $(STREAMS)

## bench-replicas: one portal on SQLite against one, two and three
## replicas on PostgreSQL (a throwaway cluster unless INSTANCEHUB_TEST_POSTGRES
## names a server): creates/s through the form, the list page's req/s and
## p99 with wrk, and the takeover time after SIGKILL
bench-replicas: build wrk postgres
	go run ./internal/tools/benchhttp -bin $(BIN) -replicas -n 400 -duration 8s

## bench-api: the API's paged instance list beside JupyterHub's paged users
## API in the same run: both seeded with N (default 1000), each answer built
## anew (a new address each request), wrk driving them in turn three times,
## median req/s and p99 (min-max) and the ratio; JupyterHub is Debian's
## (installed if missing), with the dummy authenticator and a service token
bench-api: build wrk jupyterhub
	go run ./internal/tools/benchhttp -bin $(BIN) -n $(N) -jupyterhub $(JUPYTERHUB)

## bench-scale: 100,000 instances (SCALE) seeded through the API with a token,
## concurrently, then the list, search and sort renders' p99, a Refresh's
## duration, the idle portal's RSS and the creates' rate at 0 and at SCALE
SCALE ?= 100000
bench-scale: build wrk
	go run ./internal/tools/benchhttp -bin $(BIN) -scale $(SCALE)

JUPYTERHUB ?= /usr/bin/jupyterhub
jupyterhub:
	@if [ ! -x "$(JUPYTERHUB)" ]; then \
		echo "installing JupyterHub (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq jupyterhub >/dev/null; \
	fi
	@test -x "$(JUPYTERHUB)" || { echo "JupyterHub is not at $(JUPYTERHUB); bench-api cannot compare"; exit 1; }

wrk:
	@if ! command -v wrk >/dev/null; then \
		echo "installing wrk (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi

## screenshots: refresh docs/screenshots from the browser tests
screenshots: build chromium e2e-driver
	PLAYWRIGHT_DRIVER_PATH=$(DRIVER_DIR) INSTANCEHUB_CHROMIUM=$(CHROMIUM) INSTANCEHUB_UPDATE_SCREENSHOTS=1 \
		go test -count=1 -run 'TestInstanceJourney|TestCreateFormMessages|TestAccessControlJourney|TestQuotaJourney|TestApplicationsJourney|TestSchedulingJourney|TestReviewBeforeCreate|TestQuotaRequestJourney' ./e2e/

## azure-specs: refresh azure/testdata/specs, the Azure REST API specs and
## examples the azure package's contract and replay tests read, from a
## checkout of github.com/Azure/azure-rest-api-specs (a work tree, or the git
## directory of a snapshot): make azure-specs SPECS=<checkout>. The files
## are those azure/testdata/specs/SOURCES lists, copied from the checkout's
## HEAD; SOURCES records its commit and each file's SHA-256
SPECS ?=
azure-specs:
	@test -n "$(SPECS)" || { echo "make azure-specs SPECS=<checkout of Azure/azure-rest-api-specs>"; exit 2; }
	go run ./internal/tools/azurespecs -checkout "$(SPECS)" -dir azure/testdata/specs
	go test -count=1 -run 'Spec|Replay|Contract' ./azure/

## check: formatting, vet, staticcheck, generated templates up to date, no
## known vulnerability (vulncheck), the deployment files valid
## (check-deploy), the Prometheus alert rules checked (check-metrics) and
## the OpenAPI document linted (check-openapi)
check: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go tool staticcheck ./...
	go tool templ generate -path views >/dev/null 2>&1
	@git diff --quiet -- 'views/*_templ.go' || { echo "views/*_templ.go are stale: run make generate and commit"; exit 1; }
	@$(MAKE) --no-print-directory vulncheck
	@$(MAKE) --no-print-directory check-deploy
	@$(MAKE) --no-print-directory check-metrics
	@$(MAKE) --no-print-directory check-openapi

## check-deploy: docs/deploy's nginx and Caddy configurations and systemd
## unit, validated by nginx -t, caddy validate and systemd-analyze verify
## (Debian's, installed if missing), unprivileged in a temporary directory
check-deploy: deploy-tools
	docs/deploy/check.sh

## vulncheck: govulncheck against the Go vulnerability database, built offline
## from $(VULNDB_MODULE); fails on any reachable vulnerability
vulncheck: $(VULNDB)/index/db.json
	go tool govulncheck -db file://$(CURDIR)/$(VULNDB) ./...

# Built again only for another vulndb version or a changed builder.
$(VULNDB)/index/db.json: $(filter-out %_test.go,$(wildcard internal/tools/vulndb/*.go))
	go mod download $(VULNDB_MODULE)
	go run ./internal/tools/vulndb -out $(VULNDB) \
		-osv "$$(go list -m -f '{{.Dir}}' $(VULNDB_MODULE))/data/osv" \
		-modified "$$(go list -m -f '{{.Time.Format "2006-01-02T15:04:05Z07:00"}}' $(VULNDB_MODULE))"

## chromium: Debian's Chromium for the browser tests
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Chromium (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "Chromium is not at $(CHROMIUM); the browser tests cannot run"; exit 1; }

## jupyter: Debian's Jupyter Notebook server, with the Python and R kernels
## (R and its Jupyter kernel, since RStudio is not packaged) and the
## terminal, which the offline emulator runs behind each running instance's
## Jupyter and Terminal links (about 450 MB), and R with its Jupyter kernel
## (R without the packages Debian recommends: 136 packages rather than 1,059)
RKERNEL := /usr/share/jupyter/kernels/ir/kernel.json
jupyter:
	@if [ ! -x "$(JUPYTER)" ] || [ ! -e "$(RKERNEL)" ]; then \
		echo "installing Jupyter Notebook and R (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq jupyter-notebook python3-ipykernel python3-terminado >/dev/null && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends r-base-core r-cran-irkernel >/dev/null; \
	fi
	@test -x "$(JUPYTER)" || { echo "Jupyter is not at $(JUPYTER); the offline Jupyter and Terminal cannot run"; exit 1; }
	@test -e "$(RKERNEL)" || { echo "R's Jupyter kernel is not at $(RKERNEL); the offline Jupyter offers no R"; exit 1; }

## bubblewrap: Debian's bubblewrap, which runs each offline instance's
## Jupyter in a sandbox of its own; without it the offline Jupyter is off
bubblewrap:
	@if [ ! -x "$(BWRAP)" ]; then \
		echo "installing bubblewrap (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap >/dev/null; \
	fi
	@test -x "$(BWRAP)" || { echo "bubblewrap is not at $(BWRAP); the offline Jupyter and Terminal cannot run in a sandbox"; exit 1; }

## postgres: Debian's PostgreSQL server, unless the tests are given one
## (INSTANCEHUB_TEST_POSTGRES, or a server on 127.0.0.1:5432): the store's
## tests run against it too, each in a throwaway cluster (internal/pgtest)
postgres:
	@if [ -z "$${INSTANCEHUB_TEST_POSTGRES:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null \
		&& ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

## nginx: Debian's nginx, which the browser test of the portal behind a
## reverse proxy runs with docs/deploy/nginx.conf, and azure's test with the
## configuration cloud-init gives the VMs' proxy in front of RStudio, each as
## a process of its own (the package's service is not needed)
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
		echo "installing nginx (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; \
	fi

## check-openapi: the API's OpenAPI document (web/openapi.json) linted by
## Redocly's CLI (npm @redocly/cli, in node_modules), its recommended rules;
## an error fails, a warning is shown. No telemetry is sent.
check-openapi: node_modules/.package-lock.json
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly lint --format=stylish web/openapi.json

## check-metrics: docs/metrics' Prometheus alert rules, checked and their
## unit tests run by promtool (Debian's prometheus, installed if missing)
check-metrics:
	@if ! command -v promtool >/dev/null; then \
		echo "installing promtool (apt-get prometheus)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	fi
	cd docs/metrics && promtool check rules alerts.yml && promtool test rules alerts_test.yml

## deploy-tools: what check-deploy runs: Debian's nginx, caddy, systemd's
## systemd-analyze and openssl
deploy-tools: nginx
	@if ! command -v caddy >/dev/null || ! command -v systemd-analyze >/dev/null || ! command -v openssl >/dev/null; then \
		echo "installing caddy, systemd and openssl (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq caddy systemd openssl >/dev/null; \
	fi

## e2e-driver: playwright-go's driver, made of the machine's node and the
## npm playwright-core (nothing is downloaded)
e2e-driver: node_modules/.package-lock.json
	mkdir -p $(DRIVER_DIR)
	ln -sf "$$(command -v node)" $(DRIVER_DIR)/node
	ln -sfn ../node_modules/playwright-core $(DRIVER_DIR)/package
	PLAYWRIGHT_DRIVER_PATH=$(DRIVER_DIR) go tool playwright --version >/dev/null

clean:
	rm -rf bin static/vendor $(DRIVER_DIR) .cache
