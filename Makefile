GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Modules nested in the product's (installer/mkdeb: the packaging tool, see
# its go.mod): ./... from the root stops at them, so test, vet and
# tidy-check visit each one by name. Found, not listed, so that a new one
# cannot be forgotten.
NESTED := $(patsubst ./%/go.mod,%,$(shell find . -mindepth 2 -name go.mod -not -path '*/node_modules/*' -not -path '*/testdata/*' -not -path './.git/*'))

# Packages whose tests open real windows (podpis-ui under Xvfb, and under
# Wine): make test runs them after the rest, one at a time, because on a
# loaded 2-core machine software-GL windows next to the whole suite missed
# their displays.
WINDOWS_TESTS := agent/prompt cmd/podpis-ui internal/wineui

.PHONY: all build run package test test-deps bench-deps vet fmt-check tidy-check cross bench generate generate-check fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/podpis ./cmd/podpis
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/podpis-ui ./cmd/podpis-ui
	$(GO) build -o $(BIN)/podpis-demo ./cmd/podpis-demo
	$(GO) build -buildmode=c-shared -o $(BIN)/libpodpis-softtoken.so ./cmd/podpis-softtoken

# The agent on the embedded GOST soft token and the demo login site.
run: build
	./scripts/run-demo.sh

# dist/: the .deb (nfpm) and the Windows installer (makensis; signed when
# SIGN_CERT and SIGN_KEY name a PEM certificate and key).
package: build
	$(GO) -C installer/mkdeb build -o $(CURDIR)/$(BIN)/mkdeb .
	$(BIN)/mkdeb --version $(VERSION) --bin $(BIN)
	./scripts/package-windows.sh $(VERSION) dist

test: test-deps vet fmt-check tidy-check cross generate-check build
	PODPIS_REQUIRE_ENGINE=1 PODPIS_REQUIRE_DEPS=1 $(GO) test -count=1 $$($(GO) list ./... | grep -v $(patsubst %,-e %$$,$(WINDOWS_TESTS)))
	@# The windows' tests draw with software GL on virtual displays, one package at a time.
	PODPIS_REQUIRE_ENGINE=1 PODPIS_REQUIRE_DEPS=1 $(GO) test -count=1 -p 1 $(patsubst %,./%,$(WINDOWS_TESTS))
	@for m in $(NESTED); do (cd $$m && PODPIS_REQUIRE_ENGINE=1 PODPIS_REQUIRE_DEPS=1 $(GO) test -count=1 ./...) || exit 1; done
	cd webclient && npm ci --no-audit --no-fund --silent && node --test test/
	./scripts/fuzz.sh 50000x

# Fuzz every parser that sees outside bytes at length (minutes each).
fuzz:
	./scripts/fuzz.sh 5000000x

# The generated arithmetic must be what the generators write.
generate-check:
	@cd crypto/gost3410/internal/field && $(GO) run gen.go && $(GO) run asm_gen.go
	@cd crypto/gost3410/internal/ec && $(GO) run gen.go
	@git diff --exit-code --stat -- crypto/gost3410/internal || (echo "generated code is stale: run make generate and commit"; exit 1)

test-deps:
	./scripts/test-deps.sh

vet:
	$(GO) vet ./...
	$(GO) vet -tags purego ./crypto/...
	@for m in $(NESTED); do (cd $$m && $(GO) vet ./...) || exit 1; done

# go.mod and go.sum of every module say exactly what its code imports:
# nothing marked indirect that is imported, nothing left that is not.
tidy-check:
	@for m in . $(NESTED); do (cd $$m && $(GO) mod tidy -diff) || { echo "$$m: go.mod/go.sum not tidy: run go mod tidy there and commit"; exit 1; }; done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Windows code must never rot: build everything for windows/amd64 (with
# cgo through mingw, as the PKCS#11 binding needs it).
cross:
	CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc GOOS=windows GOARCH=amd64 $(GO) build ./...

# Regenerate the unrolled field arithmetic and check nothing changed.
generate:
	$(GO) generate ./...

# Benchmarks, ours against OpenSSL's GOST engine in the same run.
bench: bench-deps build
	$(GO) test -run '^$$' -bench . -benchtime 1s ./crypto/... ./verify/... ./sso/... ./account/...
	$(GO) run ./internal/benchcmp
	$(GO) run ./internal/agentbench -podpis $(BIN)/podpis -softtoken $(BIN)/libpodpis-softtoken.so
	$(GO) run ./internal/docbench -podpis $(BIN)/podpis -softtoken $(BIN)/libpodpis-softtoken.so
	@# A 100 MB File signed by a page in Chromium through the agent, against
	@# podpis hash and Chromium alone in the same run (the "# 100 MB" lines).
	cd webclient && npm ci --no-audit --no-fund --silent && node --test --test-name-pattern='100 MB' test/docs.test.mjs

bench-deps:
	./scripts/test-deps.sh --bench

clean:
	rm -rf $(BIN) dist
