# Family Advocacy Learning – build, run and test.
GO            ?= go
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
TEST_TIMEOUT  ?= 40m

.PHONY: run test test-store minio lint cross bench build fuzz clean

## build: compile the lms binary into bin/lms
build:
	$(GO) build -o bin/lms ./cmd/lms

## minio: build the pinned MinIO server into bin/minio (once; about 5 minutes)
minio: bin/minio
bin/minio:
	@echo "Building the MinIO server $(MINIO_VERSION) into bin/minio (one-off, takes a few minutes)..."
	GOBIN=$(CURDIR)/bin $(GO) install github.com/minio/minio@$(MINIO_VERSION)

## run: serve the LMS at http://localhost:8080 on the embedded stores, with demo data
run: bin/minio build
	LMS_DEMO=true ./bin/lms serve

## test: every test – unit, integration on the real stores, browser journeys – and a short fuzz run
test: bin/minio
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) fuzz

## test-store: the store's own tests (lists, queues, leases, claims and
## conditional updates, concurrency) against the MongoDB at MONGODB_URI,
## e.g. make test-store MONGODB_URI=mongodb://localhost:27017/?replicaSet=rs0
test-store: bin/minio
	@if [ -z "$(MONGODB_URI)" ]; then echo "make test-store needs MONGODB_URI=mongodb://…"; exit 2; fi
	LMS_TEST_MONGODB_URI="$(MONGODB_URI)" $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./internal/store/

## fuzz: run each fuzz target for FUZZ_EXECS inputs. A count, not a duration:
## with -fuzztime 5s, Go 1.26's fuzz coordinator can report "context deadline
## exceeded" as a failure when the clock runs out under load (golang/go#75804,
## fixed in Go 1.27); a count has no deadline to race.
FUZZ_EXECS ?= 50000
fuzz:
	@for target in $$(grep -rhoE '^func Fuzz[A-Za-z0-9_]+' --include='*_test.go' . | sed 's/func //' | sort -u); do \
		pkg=$$(grep -rlE "^func $$target\(" --include='*_test.go' . | head -1 | xargs dirname); \
		echo "fuzz $$target in $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZ_EXECS)x -fuzzminimizetime 200x $$pkg || exit 1; \
	done

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './bin/*')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(MAKE) cross

## cross: the code builds where Go does (the app and its tools on macOS and Windows)
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=windows GOARCH=amd64 $(GO) build ./...

## bench: performance figures, one line each: bench <name> <value> <unit>
bench: bin/minio
	$(GO) run ./cmd/lmsbench

clean:
	rm -rf bin/lms test-artifacts
