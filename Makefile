# feedsync — see README.md. `make run` and `make test` are all a newcomer needs.
GO      ?= go
BIN     := bin/feedsync
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build run test vet fmt-check bench clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/feedsync

# A real sync of testdata/feeds into out/catalog.jsonl with state in out/feedsync.db.
# Run it twice: the second run reports zero changes.
run: build
	./$(BIN) sync -c config.example.yaml

# The test command of the README and of CI.
test: vet fmt-check
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin out
