#!/usr/bin/env bash
# Runs the unit tier on an already built tree (`swift build --build-tests`) the
# way issue 10 asks: no sshd, no ssh, no python3, no git on PATH, and in under
# 60 seconds. PATH is one temp directory of symlinks to the Swift toolchain's
# own programs (swift-test needs nothing else); the environment is otherwise
# emptied, so nothing reaches a pyenv or cargo directory either. Inside, the
# unit tier starts no process at all (LabsyncTestSupport's Spawn refuses when
# only the unit tier is selected), so absolute paths such as /usr/bin/python3
# cannot slip through either.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${LABSYNC_UNIT_BUDGET:-60}

swift_bin=$(dirname "$(readlink -f "$(command -v "${SWIFT:-swift}")")")
# A fixed directory, not a fresh temp one: SwiftPM caches the compiled manifest
# per environment, PATH included, and compiling it again costs ~30 s here.
bin=$PWD/.build/unit-tier-path
rm -rf -- "$bin"
mkdir -p "$bin"
for tool in "$swift_bin"/*; do
    case $(basename "$tool") in *.py) continue ;; esac  # the toolchain ships a python script or two
    ln -s "$tool" "$bin/"
done
# The system linker: swift test compiles Package.swift before it runs anything.
for tool in ld ld.gold ld.bfd; do
    if path=$(command -v "$tool"); then ln -sf "$path" "$bin/$tool"; fi
done
for forbidden in sshd ssh python3 python git; do
    if PATH=$bin command -v "$forbidden" >/dev/null; then
        echo "test-unit-isolated: $forbidden is on the stripped PATH ($bin)" >&2
        exit 1
    fi
done

start=$(date +%s.%N)
env -i HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" PATH="$bin" LABSYNC_TEST_TIERS=unit \
    swift test --skip-build
end=$(date +%s.%N)
seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
# Reported, not enforced: timing goals belong to `make bench`, not to a test
# that a loaded machine could fail.
echo "unit tier without sshd, ssh, python3 or git on PATH: ${seconds} s (goal: under ${budget} s)"
