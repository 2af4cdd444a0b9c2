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

# Tests that read real shops' feeds find them through FEEDSYNC_REALFEEDS
# (they skip, naming it, without); it defaults to ../shared/realfeeds when
# that folder exists.
FEEDSYNC_REALFEEDS ?= $(wildcard $(abspath ../shared/realfeeds))
export FEEDSYNC_REALFEEDS

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

# Parser benchmarks. Generates deterministic synthetic feeds (feed/feedgen:
# 100k and 1M items in RSS, Atom, CSV and TSV, about 7 GB in all) into
# testdata/bench once, runs the in-memory parser benchmarks (MB/s, items/s,
# allocations), then streams each file through a process that only counts
# items and prints MB/s, items/s and its peak RSS (VmHWM).
BENCH_DIR   := testdata/bench
BENCH_FEEDS := $(foreach n,100k 1m,$(foreach e,xml atom.xml csv tsv,$(BENCH_DIR)/feed-$(n).$(e)))

.PHONY: fuzz bin/feedgen bin/feedcount

bench: $(BENCH_FEEDS) bin/feedcount
	$(GO) test -run '^$$' -bench '^BenchmarkRead' -benchmem -count=1 ./feed
	@echo "--- streaming from disk: format, size, time, MB/s, items/s, peak RSS of a process that counts items"
	@for f in $(BENCH_FEEDS); do ./bin/feedcount $$f || exit 1; done

bin/feedgen bin/feedcount:
	$(GO) build -o $@ ./feed/feedgen/cmd/$(notdir $@)

$(BENCH_DIR)/feed-%: | bin/feedgen
	@mkdir -p $(BENCH_DIR)
	@n=$$(echo '$*' | cut -d. -f1); ext=$$(echo '$*' | cut -d. -f2-); \
	case $$n in 100k) items=100000;; 1m) items=1000000;; *) echo "unknown size $$n"; exit 1;; esac; \
	case $$ext in xml) format=rss;; atom.xml) format=atom;; *) format=$$ext;; esac; \
	echo "feedgen: $$items $$format items -> $@"; \
	./bin/feedgen -format $$format -items $$items -seed 1 -o $@

# Runs every fuzzer of packages feed and tree for FUZZTIME each (the seed
# corpora run in `make test` as ordinary tests).
FUZZTIME ?= 2m
fuzz:
	@for p in ./config ./feed ./tree; do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			echo "--- $$p $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
		done; \
	done

# End-to-end speed: the real binary on the 1M-item feeds (generated once into
# testdata/bench): first sync, no-change sync (--full-scan, so the whole
# pipeline runs), TSV no-change, and 1% changed; median wall time, MB/s,
# items/s and peak RSS against the targets. Not part of `make test`.
.PHONY: bench-e2e profile soak
bench-e2e: $(BENCH_DIR)/feed-1m.xml $(BENCH_DIR)/feed-1m.tsv
	$(GO) test -tags benche2e -run 'TestBench(Orders)?E2E' -count=1 -timeout 60m -v ./cmd/feedsync | grep -v '^=== \|^--- \|^PASS\|^ok '

# CPU and heap profiles of the no-change bench scenario, into out/profile/.
profile: build $(BENCH_DIR)/feed-1m.xml
	@mkdir -p out/profile
	@printf 'state: profile.db\nlog: {level: warn}\ncatalog: {kind: file, path: catalog.jsonl}\nfeeds:\n  - {name: big, url: %s, policy: parent}\n' "$(CURDIR)/$(BENCH_DIR)/feed-1m.xml" > out/profile/feedsync.yaml
	@test -f out/profile/profile.db || ./$(BIN) sync -c out/profile/feedsync.yaml -q
	./$(BIN) sync -c out/profile/feedsync.yaml --full-scan --cpuprofile out/profile/cpu.prof --memprofile out/profile/heap.prof
	@echo "go tool pprof -top bin/feedsync out/profile/cpu.prof   (and heap.prof)"

# The long soak of the User.com client: 10,000 products through a fake failing 20% of requests.
soak:
	FEEDSYNC_SOAK=1 $(GO) test -race -count=1 -run TestSoak -v -timeout 20m ./push/

# The convergence chaos test at length: random feed versions, reverts, guard
# refusals, SIGKILL at random moments and catalog faults, for the JSONL, REST
# and import sinks, and for an orders export's deals; after one clean run the
# catalog must equal the feed (and the export).
# `make test` runs 14 steps of it; this runs CHAOS_STEPS (seed CHAOS_SEED).
CHAOS_STEPS ?= 300
CHAOS_SEED  ?= $(shell date +%s)
.PHONY: chaos
chaos:
	FEEDSYNC_CHAOS_STEPS=$(CHAOS_STEPS) FEEDSYNC_CHAOS_SEED=$(CHAOS_SEED) $(GO) test -count=1 -run 'TestChaos(Orders)?Convergence' -v -timeout 60m ./cmd/feedsync
