#!/usr/bin/env bash
# make_configure.sh — a configure that failed (packages missing) must not
# wedge the build directory: the next `make` configures it again.
#
# The failed first run is real: cmake with pkg-config pointed at nothing
# fails on the first required library and leaves CMakeCache.txt and no
# Makefile, as on a fresh machine. Then `make configure BUILD=that-dir` (what
# `make`, `make run` and `make build` do first) must produce a Makefile.
set -u
src=${ANT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
dir=$(mktemp -d /tmp/antrean-configure-XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "make_configure: FAIL: $*"; exit 1; }

if PKG_CONFIG_LIBDIR=/nonexistent cmake -S "$src" -B "$dir" >"$dir.log" 2>&1; then
    rm -f "$dir.log"; fail "cmake with no pkg-config libraries should have failed"
fi
rm -f "$dir.log"
[ -f "$dir/CMakeCache.txt" ] || fail "the failed configure left no CMakeCache.txt (test premise)"
[ ! -f "$dir/Makefile" ] || fail "the failed configure left a Makefile (test premise)"

out=$(make --no-print-directory -C "$src" configure BUILD="$dir" 2>&1) || fail "make configure failed: $out"
[ -f "$dir/Makefile" ] || fail "make configure left no Makefile: $out"
cmake --build "$dir" --target help >/dev/null 2>&1 || fail "the configured directory does not build"

# configured once, a second run leaves it alone (no cmake line printed)
out=$(make --no-print-directory -C "$src" configure BUILD="$dir" 2>&1) || fail "second make configure: $out"
case "$out" in *"cmake -S"*) fail "second make configure re-ran cmake: $out" ;; esac
echo "make_configure: ok"
