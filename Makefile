# edgepix build entry points. Everything a fresh machine needs is fetched by
# the Go toolchain: go.mod, and the pinned S3 test server (see s3server).
GO       ?= go
export CGO_ENABLED = 0
TAGS     := nodynamic
BIN      := bin/edgepix

PLUGINS  := duotone placeholder watermark invert blur
WAT_PLUGINS := simdinvert

.PHONY: build test bench bench-peers bench-miss run fuzz vet lint plugins s3server chromium syscodecs

build:
	@mkdir -p bin
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/edgepix

vet:
	$(GO) vet -tags $(TAGS) ./...

# staticcheck; capitalised error strings are Cloudinary's API messages.
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags $(TAGS) -checks "all,-ST1005,-ST1000,-ST1003" ./...

# The S3-compatible server the blob store tests run against (versitygw,
# pinned in blob/s3test), built once with `go install` into the user's cache
# directory: minutes on a fresh machine, instant afterwards.
s3server:
	$(GO) run ./blob/s3test/cmd/s3server

# Debian's Chromium, which the console's browser tests drive
# (e2e/console_test.go); they skip, saying so, only when it cannot be had.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "WARNING: Debian's chromium could not be installed: the console's browser tests will be SKIPPED"

# Debian's libwebp and libavif, which WebP and AVIF encoding load at run
# time when present (transform/codec/syslib.go): several times faster than
# the embedded WebAssembly builds, which stay the fallback.
SYSCODECS := libwebp7 libavif15
syscodecs:
	@dpkg -s $(SYSCODECS) >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSCODECS) >/dev/null; } || \
		echo "WARNING: $(SYSCODECS) could not be installed: WebP and AVIF use the embedded WebAssembly builds"

# The codec tests run twice: with the system libraries (required here), and
# with the embedded builds alone.
test: vet s3server chromium syscodecs
	EDGEPIX_REQUIRE_SYSTEM_CODECS=1 $(GO) test -tags $(TAGS) -count=1 -timeout 12m ./...
	EDGEPIX_SYSTEM_CODECS=off $(GO) test -tags $(TAGS) -count=1 ./transform/codec

# Short fuzzing sessions over the URL parser and the decoders (the seed
# corpora run in `make test`).
fuzz:
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz FuzzParsePath -fuzztime 30s ./transform/grammar
	$(GO) test -tags $(TAGS) -run '^$$' -fuzz FuzzDecode -fuzztime 60s ./transform/codec

# Example plugins, compiled to plugins/examples/build/NAME.wasm: the Go
# ones with the Go toolchain, the WebAssembly text ones with the project's
# own assembler (the tests build both from source too).
plugins:
	@mkdir -p plugins/examples/build
	@for p in $(PLUGINS); do \
		echo "plugins/examples/build/$$p.wasm"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags="-s -w" \
			-o plugins/examples/build/$$p.wasm ./plugins/examples/$$p || exit 1; \
	done
	@for p in $(WAT_PLUGINS); do \
		echo "plugins/examples/build/$$p.wasm"; \
		$(GO) run ./internal/wasmasm/cmd/wat2wasm plugins/examples/$$p/$$p.wat plugins/examples/build/$$p.wasm || exit 1; \
	done

bench:
	$(GO) run -tags $(TAGS) ./bench/cmd/benchtable

# edgepix next to nginx, libvips and (IMGPROXY_BIN) imgproxy on loopback:
# installs the peers from Debian when missing; see bench/README.md.
bench-peers:
	bash bench/peers.sh $(ARGS)

# The miss path next to libvips' vipsthumbnail (Debian's libvips-tools):
# per image one at a time, and images/s with one render per core.
bench-miss: syscodecs
	@command -v vipsthumbnail >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libvips-tools >/dev/null; }
	$(GO) run -tags $(TAGS) ./bench/cmd/misscpu

run: build syscodecs
	./$(BIN) serve
