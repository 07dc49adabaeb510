# The two commands of the README: `make run` and `make test`. Everything
# they need beyond Go they install (redis-server via apt-get) or name.
GO       ?= go
BIN      := bin
BINARIES := escai ingest pii-worker audit-writer authz
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/escai-framework/escai/internal/cli.Version=$(VERSION)

.PHONY: run test vet build bench fuzz natscli clean deps

## run: the whole pipeline in one process (escai dev); data under ./data
run: deps
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/escai dev $(ARGS)

## test: go vet, then every test with the race detector (real NATS, real Redis)
test: deps vet
	$(GO) test -race -count=1 -timeout 20m ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

deps:
	@scripts/ensure-redis.sh

## build: the five binaries into ./bin
build:
	@mkdir -p $(BIN)
	$(foreach b,$(BINARIES),$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/$(b) ./cmd/$(b) &&) true

## bench: Go benchmarks, then escai bench (1 KiB events, embedded pipeline)
bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/... ./internal/stage/ ./internal/pipeline/
	$(GO) test -run '^$$' -bench BenchmarkWriter -benchtime 100000x -count 3 ./internal/auditwriter/
	$(GO) test -run '^$$' -bench BenchmarkAuditVerify -benchtime 200000x ./internal/cli/
	$(BIN)/escai bench --events 50000 --size 1024

## fuzz: a short run of every fuzz target (FUZZTIME=30s by default)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$target ($$pkg)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## natscli: install the nats CLI used in the README examples
natscli:
	$(GO) install github.com/nats-io/natscli/nats@v0.5.0

clean:
	rm -rf $(BIN)
