# instancehub: `make run` serves the portal, `make test` runs every test.
# Both install what they need on a fresh machine: npm packages from the
# lockfile, Go modules and tools (the `tool` lines of go.mod), and, for the
# browser tests, Debian's Chromium.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

BIN         := bin/instancehub
ADDR        ?= 127.0.0.1:8080
DATA        ?= ./data
CHROMIUM    ?= /usr/bin/chromium
DRIVER_DIR  := $(CURDIR)/.pw-driver
TEMPL_SRC   := $(wildcard views/*.templ)
GO_SRC      := $(shell find . -name '*.go' -not -path './node_modules/*' -not -name '*_test.go')
export CGO_ENABLED := 0
# Go 1.27.3 fixes the standard library's known vulnerabilities of 1.26.8; the
# module proxy serves it as a toolchain, fetched once per machine.
export GOTOOLCHAIN := go1.27.3

.PHONY: build run test check bench fuzz screenshots deps generate clean chromium e2e-driver

## build: generate the templates, fetch htmx and build bin/instancehub
build: $(BIN)

$(BIN): deps generate static/vendor/htmx.min.js $(GO_SRC)
	go build -trimpath -o $(BIN) ./cmd/instancehub

## run: build and serve the portal on $(ADDR) with data in $(DATA)
run: build
	./$(BIN) serve --addr $(ADDR) --data $(DATA)

## deps: npm packages from package-lock.json and the Go modules
deps: node_modules/.package-lock.json
	go mod download

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

## generate: turn views/*.templ into Go
generate:
	go tool templ generate -path views >/dev/null 2>&1

## test: every test, browser tests included (installs Chromium if missing)
test: build chromium e2e-driver
	PLAYWRIGHT_DRIVER_PATH=$(DRIVER_DIR) INSTANCEHUB_CHROMIUM=$(CHROMIUM) go test -count=1 -timeout 30m ./...

## bench: the benchmarks of the list page, the refresh and the store
bench: build
	go test -run '^$$' -bench . -benchmem ./...

## fuzz: every fuzz test for $(FUZZTIME) each (`make test` runs only their seeds)
FUZZTIME ?= 1m
fuzz: generate
	@for pkg in $$(go list ./...); do \
		for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "$$pkg $$target"; \
			go test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## screenshots: refresh docs/screenshots from the browser tests
screenshots: build chromium e2e-driver
	PLAYWRIGHT_DRIVER_PATH=$(DRIVER_DIR) INSTANCEHUB_CHROMIUM=$(CHROMIUM) INSTANCEHUB_UPDATE_SCREENSHOTS=1 \
		go test -count=1 -run 'TestInstanceJourney|TestCreateFormMessages|TestAccessControlJourney|TestQuotaJourney' ./e2e/

## check: formatting, vet, staticcheck and generated templates up to date
check: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
	go tool staticcheck ./...
	go tool templ generate -path views >/dev/null 2>&1
	@git diff --quiet -- 'views/*_templ.go' || { echo "views/*_templ.go are stale: run make generate and commit"; exit 1; }

## chromium: Debian's Chromium for the browser tests
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Chromium (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "Chromium is not at $(CHROMIUM); the browser tests cannot run"; exit 1; }

## e2e-driver: playwright-go's driver, made of the machine's node and the
## npm playwright-core (nothing is downloaded)
e2e-driver: node_modules/.package-lock.json
	mkdir -p $(DRIVER_DIR)
	ln -sf "$$(command -v node)" $(DRIVER_DIR)/node
	ln -sfn ../node_modules/playwright-core $(DRIVER_DIR)/package
	PLAYWRIGHT_DRIVER_PATH=$(DRIVER_DIR) go tool playwright --version >/dev/null

clean:
	rm -rf bin static/vendor $(DRIVER_DIR)
