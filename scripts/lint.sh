#!/usr/bin/env bash
# `make lint`: every script labsync ships (to hosts, in examples/ci), and the architecture rule.
#  - shell scripts (Sources/Drivers/*/Scripts/*.sh, scripts/*.sh): shellcheck, as POSIX sh
#    for the shipped ones (they run under the host's /bin/sh, often dash);
#  - Python scripts: py_compile, then ruff;
#  - scripts/check-architecture.sh: the core names no concrete driver;
#  - scripts/check-script-literals.py: no multi-line string over 30 lines in Sources/.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff=${RUFF:-.tools/venv/bin/ruff}
status=0

shipped_sh=$(find Sources/Drivers -path '*/Scripts/*.sh' | sort)
# SC2154: the hub scripts' HUB_* variables are assigned by HubScripts.swift,
# in front of the text, from HubLayout (each path defined once, in Swift).
# shellcheck disable=SC2086
shellcheck --shell=sh --severity=info -e SC2154 -x -P SCRIPTDIR $shipped_sh || status=1
# shellcheck disable=SC2046
shellcheck --severity=warning -x $(find scripts .ci examples/ci -name '*.sh' -o -name run -path '.ci/*' | sort) || status=1
# The .deb's maintainer scripts run under dpkg's /bin/sh.
shellcheck --shell=sh --severity=info packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm || status=1

python=$(find Sources/Drivers scripts Tests -name '*.py' -not -path '*/.build*' | sort)
# shellcheck disable=SC2086
python3 -m py_compile $python || status=1
# The observe fragments run in a namespace that observe_lib.py fills (F821:
# names defined there); everything else is checked as usual.
# shellcheck disable=SC2086
"$ruff" check --quiet --per-file-ignores 'Sources/Drivers/*/Scripts/*_observe.py:F821' $python || status=1

scripts/check-architecture.sh || status=1
python3 scripts/check-script-literals.py || status=1
[ "$status" = 0 ] && echo "lint: ok"
exit "$status"
