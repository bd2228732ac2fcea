#!/usr/bin/env bash
# What `npm test` runs: install missing test peers, type-check, lint, format check, then every test file on
# the pinned Node 24. Stops at the first failing step and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=node_modules/.bin
# Always the pinned Node 24: the machine's node (20) crashes with better-sqlite3 13.
NODE="$BIN/node"
for tool in node tsc eslint prettier; do
  if [ ! -x "$BIN/$tool" ]; then
    echo "test.sh: $BIN/$tool missing: run npm ci first" >&2
    exit 1
  fi
done

step() { printf '\n== %s\n' "$*"; }

step "test peers"
bash scripts/install-test-peers.sh

step "tsc ($("$NODE" --version))"
"$NODE" "$BIN/tsc" -p .

step "eslint"
"$NODE" "$BIN/eslint" .

step "prettier"
"$NODE" "$BIN/prettier" --check .

step "tests"
mapfile -t files < <(find test -name '*.test.ts' -type f | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "test.sh: no test files under test/" >&2
  exit 1
fi
# Per-test timeout well above the slowest test (the executable build is ~10 s); the outer timeout keeps a
# hung run far below CI's 30 minutes. No --test-force-exit: with process isolation it silently drops the tail
# of a file's results and still exits 0 (nodejs/node#64833), so a failure could go unreported. A test file
# that leaves a handle open therefore hangs until the outer timeout, which fails the run loudly.
timeout --kill-after=30s 20m "$NODE" --test --test-concurrency=2 --test-timeout=180000 "${files[@]}"
