# antrean — the front door. The build itself lives in CMakeLists.txt; this
# file only installs packages, picks build directories and runs things.
#
#   make              release build in build/
#   make run          build and start antrean-server --demo
#   make test         deps, ASan+UBSan build in build-asan/, every test, format check
#   make asan | tsan  sanitizer builds (tsan also runs the non-Criterion tests)
#   make format | format-check
#   make bench        release build, run the benchmarks
#   make crash-test   storage crash/restart test
#   make deps         install the Debian packages that are missing
#   make deploy-test  deploy/ with real nginx, systemd-analyze, promtool
#
# Variables: SEED=N (make test: ANT_SEED for randomized tests), CC=clang,
# JOBS=N, BUILD/ASAN_DIR/TSAN_DIR (build directories), LISTEN, RUN_ARGS.

SHELL := /bin/bash
.DEFAULT_GOAL := all

# Every Debian package the project needs, in one place. chromium, nodejs and
# npm are for the browser and interop tests; libcurl (webhooks) and libnats
# (cluster) are linked; nats-server, haproxy, nginx-light and prometheus
# (promtool) are started or run by tests; redis, wrk are benchmark peers.
DEB_PACKAGES := build-essential cmake pkg-config \
	libuv1-dev liblmdb-dev lmdb-utils libmsgpack-dev libcriterion-dev \
	libhttp-parser-dev libssl-dev libjansson-dev libfiu-dev libqrencode-dev \
	clang-14 libclang-rt-14-dev clang-format valgrind \
	nodejs npm chromium \
	libcurl4-openssl-dev nats-server libnats-dev haproxy nginx-light \
	redis-server redis-tools wrk prometheus openssl

BUILD    ?= build
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
LISTEN   ?= 127.0.0.1:8080
RUN_ARGS ?=

# Sanitizer settings for every test run (the test binaries carry the same
# defaults, see tests/unit/common/ant_test.h).
ANT_ASAN_OPTIONS  := detect_leaks=1:abort_on_error=1
ANT_UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1
ANT_TSAN_OPTIONS  := halt_on_error=1:second_deadlock_stack=1
TEST_TIMEOUT ?= 900

# make test SEED=1234 -> ANT_SEED=1234 in every test's environment
ifdef SEED
export ANT_SEED := $(SEED)
endif

SUDO := $(shell if [ "$$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then echo sudo; fi)

# configure DIR EXTRA-ARGS: configure a build directory whenever it has no
# build system yet; later builds re-run cmake by themselves when
# CMakeLists.txt or a glob changes (a shell expression: use it as
# "@$(call configure,DIR,ARGS)"). A configure that failed (packages missing)
# leaves CMakeCache.txt without a Makefile, so the test is on the Makefile.
configure = if [ ! -f $(1)/Makefile ] && [ ! -f $(1)/build.ninja ]; then \
		echo "cmake -S . -B $(1) $(2) $(CMAKE_ARGS)"; cmake -S . -B $(1) $(2) $(CMAKE_ARGS); \
	fi


.PHONY: node-deps
.PHONY: deploy-test
.PHONY: all build configure deps test check asan tsan format format-check bench run crash-test clean help

all: build

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Only configure $(BUILD) (when it has no build system yet), build nothing.
configure:
	@$(call configure,$(BUILD),-DCMAKE_BUILD_TYPE=RelWithDebInfo)

# Installs the packages of DEB_PACKAGES that are not installed; does nothing
# when all are. A package counts as installed when dpkg says so or when an
# installed package provides it (NodeSource's nodejs provides npm).
deps:
	@missing=""; \
	provided=$$(dpkg-query -W -f='$${Status}|$${Provides}\n' 2>/dev/null \
		| sed -n 's/^install ok installed|//p' | tr ',' '\n' | sed 's/(.*//; s/ //g'); \
	for p in $(DEB_PACKAGES); do \
		if dpkg -s $$p 2>/dev/null | grep -q '^Status: install ok installed'; then continue; fi; \
		if grep -qx -- "$$p" <<<"$$provided"; then continue; fi; \
		missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all $(words $(DEB_PACKAGES)) packages present"; \
	else \
		echo "deps: installing$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# The CI entry point (.ci/run). Runs every test under ASan+UBSan with leak
# detection, then the format check, and ends with one line "N passed, N failed"
# (ctest's tests plus the format check) for the CI to read.
test: deps node-deps
	@{ $(call configure,$(ASAN_DIR),-DANT_SANITIZE=asan -DCMAKE_BUILD_TYPE=Debug) \
	  && cmake --build $(ASAN_DIR) -j$(JOBS); } \
	  || { echo "make test: the build in $(ASAN_DIR) failed"; echo "0 passed, 1 failed"; exit 1; }
	@set +e; \
	echo "ctest in $(ASAN_DIR): ASAN_OPTIONS=$(ANT_ASAN_OPTIONS) UBSAN_OPTIONS=$(ANT_UBSAN_OPTIONS)$(if $(SEED), ANT_SEED=$(SEED))"; \
	( cd $(ASAN_DIR) && ASAN_OPTIONS=$(ANT_ASAN_OPTIONS) UBSAN_OPTIONS=$(ANT_UBSAN_OPTIONS) \
		ctest --output-on-failure --no-tests=error --timeout $(TEST_TIMEOUT) -j$(JOBS) ) 2>&1 \
		| tee $(ASAN_DIR)/ctest.log; \
	test_rc=$${PIPESTATUS[0]}; \
	$(MAKE) --no-print-directory format-check; fmt_rc=$$?; \
	counts=$$(sed -n 's/.*tests passed, \([0-9][0-9]*\) tests\{0,1\} failed out of \([0-9][0-9]*\).*/\1 \2/p' \
		$(ASAN_DIR)/ctest.log | tail -n 1); \
	failed=$${counts% *}; total=$${counts#* }; \
	if [ -z "$$counts" ]; then failed=0; total=0; fi; \
	if [ $$test_rc -ne 0 ] && [ $$failed -eq 0 ]; then failed=1; total=$$((total + 1)); fi; \
	if [ $$fmt_rc -ne 0 ]; then failed=$$((failed + 1)); fi; \
	total=$$((total + 1)); \
	echo "$$((total - failed)) passed, $$failed failed"; \
	[ $$test_rc -eq 0 ] && [ $$fmt_rc -eq 0 ]

check: test

# npm packages, pinned by their lock files: the interop tests (ws,
# @msgpack/msgpack) and the browser tests (playwright-core, which drives
# Debian's chromium and downloads no browser of its own).
node-deps:
	@for d in tests/integration tests/browser; do \
		if [ -f $$d/package-lock.json ]; then \
			npm --prefix $$d ci --no-audit --no-fund --loglevel=error || exit 1; \
		fi; \
	done

# deploy/ against the real programs: nginx (TLS, WebSocket, cache, per-citizen
# limits), the systemd unit (systemd-analyze verify, its ExecStart), promtool
# (/metrics, prometheus.yml, the Grafana dashboard's queries). make test runs
# it through ctest (test "deploy") against the ASan server: DEPLOY_SERVER.
DEPLOY_SERVER ?=
deploy-test:
	@server="$(DEPLOY_SERVER)"; \
	if [ -z "$$server" ]; then \
		$(MAKE) --no-print-directory node-deps build || exit 1; server=$(BUILD)/antrean-server; fi; \
	ANTREAN_SERVER="$$(realpath "$$server")" ANT_SOURCE_DIR="$(CURDIR)" \
		node --test --test-concurrency=1 tests/integration/deploy/*.test.mjs

asan:
	@$(call configure,$(ASAN_DIR),-DANT_SANITIZE=asan -DCMAKE_BUILD_TYPE=Debug)
	cmake --build $(ASAN_DIR) -j$(JOBS)

tsan:
	@$(call configure,$(TSAN_DIR),-DANT_SANITIZE=tsan -DCMAKE_BUILD_TYPE=Debug)
	cmake --build $(TSAN_DIR) -j$(JOBS)
	@echo "tsan: running the non-Criterion tests (Criterion cannot start under TSan, see docs/developers.md)"
	cd $(TSAN_DIR) && TSAN_OPTIONS=$(ANT_TSAN_OPTIONS) \
		ctest --output-on-failure --timeout $(TEST_TIMEOUT) -j$(JOBS) -LE criterion

# Tracked C files only (git ls-files), so build output and scratch files are
# never touched; outside a git checkout, every *.c/*.h under the source dirs.
# ($(wildcard) drops tracked files that were deleted in the work tree.)
FORMAT_FILES = $(wildcard $(shell { git ls-files -- '*.c' '*.h' 2>/dev/null || \
	find engine net storage clients bench tests -name '*.[ch]' 2>/dev/null; } | sort -u))

format:
	@files="$(FORMAT_FILES)"; [ -z "$$files" ] || clang-format -i $$files

format-check:
	@files="$(FORMAT_FILES)"; \
	if [ -z "$$files" ] || clang-format --dry-run --Werror $$files; then \
		echo "format-check: OK ($(words $(FORMAT_FILES)) files)"; \
	else \
		echo "format-check: FAILED (run 'make format')"; exit 1; \
	fi

bench: build
	@ran=0; \
	if [ -x $(BUILD)/engine-bench ]; then echo "== engine-bench"; $(BUILD)/engine-bench || exit 1; ran=1; fi; \
	if [ -x $(BUILD)/storage-bench ]; then echo "== storage-bench"; $(BUILD)/storage-bench || exit 1; ran=1; fi; \
	if [ $$ran -eq 0 ]; then echo "bench: no benchmark built yet (bench/engine_bench.c)"; fi; \
	if [ -x $(BUILD)/antrean-bench ]; then \
		echo "antrean-bench is built ($(BUILD)/antrean-bench); it needs a running server (make run)"; fi

run: deps build
	@echo "Starting antrean-server --demo on $(LISTEN) (Ctrl-C to stop); data in ./antrean-data"; \
	echo "  board:    http://$(LISTEN)/board/mpp-demo"; \
	echo "  kiosk:    http://$(LISTEN)/kiosk/mpp-demo"; \
	echo "  counter:  http://$(LISTEN)/counter/mpp-demo/l01   (counters l01 … l22)"; \
	echo "  admin:    http://$(LISTEN)/admin   (token in ./antrean-data/admin.token)"; \
	echo "  API:      http://$(LISTEN)/v1/health   WebSocket: ws://$(LISTEN)/v1/ws"; \
	echo "  the operator token is printed by the server below"; \
	exec $(BUILD)/antrean-server --demo --listen $(LISTEN) $(RUN_ARGS)

crash-test: build
	@if cmake --build $(BUILD) --target help | grep -q 'storage-crash-test'; then \
		cmake --build $(BUILD) -j$(JOBS) --target storage-crash-test && \
		$(BUILD)/storage-crash-test; \
	else \
		echo "crash-test: no storage-crash-test yet (tests/crash/*.c)"; \
	fi

clean:
	rm -rf $(BUILD) $(ASAN_DIR) $(TSAN_DIR)

help:
	@sed -n '1,15p' Makefile | sed 's/^# \{0,1\}//'
