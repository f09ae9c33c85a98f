#!/usr/bin/env bash
# Every test belongs to exactly one tier: each @Test carries .unit, .integration
# or .endToEnd itself, or sits in a type declared with a @Suite(...) that does
# (see Sources/LabsyncTestSupport/TestTiers.swift). A test without a tier would
# run in every tier's `make` target; this check fails instead, naming it.
# Nesting is read from indentation (the code is formatted with 4 spaces).
set -euo pipefail
cd "$(dirname "$0")/.."

# Suites declared with a tier: an `extension` of one (in any file) inherits it.
tiered_suites=$(grep -rhoE '@Suite\([^)]*\.(unit|integration|endToEnd)[,)].* struct [A-Za-z0-9_]+' Tests | awk '{ print $NF }')

find Tests -name '*.swift' -print0 | sort -z | xargs -0 awk -v suites="$tiered_suites" '
    BEGIN { n = split(suites, list, "\n"); for (i = 1; i <= n; i++) tieredSuite[list[i]] = 1 }
    FNR == 1 { delete tiered; pending = 0 }
    function indent(line) { match(line, /[^ ]/); return RSTART - 1 }
    function hasTier(line) { return line ~ /[(, ]\.(unit|integration|endToEnd)[,)]/ }
    /^ *@Suite/ { pending = hasTier($0) ? 2 : 1 }
    /^ *(@Suite(\([^)]*\))? +)?((public|private|fileprivate|internal|final) )*(struct|class|enum|actor|extension) / {
        k = indent($0)
        for (d in tiered) if (d + 0 >= k) delete tiered[d]
        tiered[k] = (pending == 2) || ($0 ~ /extension / && $2 in tieredSuite)
        pending = 0
    }
    /^ *@Test/ {
        k = indent($0); ok = hasTier($0)
        for (d in tiered) if (d + 0 < k && tiered[d]) ok = 1
        if (!ok) { printf "%s:%d: test without a tier (.unit, .integration or .endToEnd)\n", FILENAME, FNR; bad = 1 }
    }
    END { exit bad }
'
