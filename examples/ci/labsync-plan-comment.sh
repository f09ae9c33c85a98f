#!/usr/bin/env bash
# CI on a pull/merge request: validate the specs, plan, and post the Markdown
# plan as ONE comment on the request (found again by a hidden marker and
# updated on every push). Exit 0 when the plan has no changes or only changes
# (plan exit 0 or 2), 1 when the specs are invalid or a host cannot be planned.
#
# Environment:
#   LABSYNC_REPO          spec directory (default: the checkout, .)
#   LABSYNC_SSH_KEY       deploy key (CI secret); see labsync-ci-lib.sh
#   LABSYNC_OBSERVATIONS  plan from this recorded `labsync status --format json`
#                         instead of reaching the hosts (CI without host access)
#   LABSYNC_STATE_DIR     labsync's --state-dir (default: labsync's own)
#   LABSYNC_MARKER        the hidden marker (default: <!-- labsync-plan -->)
# The plan's own exit code goes to $GITHUB_OUTPUT (plan-exitcode=N) when set,
# and is printed last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=labsync-ci-lib.sh
. "$here/labsync-ci-lib.sh"

repo=${LABSYNC_REPO:-.}
marker=${LABSYNC_MARKER:-<!-- labsync-plan -->}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

labsync --version
labsync_ci_install_key
labsync_ci_state_args

status=0
if labsync validate "${labsync_state[@]}" "$repo" > "$out/validate.txt" 2>&1; then
  plan_args=(plan "${labsync_state[@]}" --repo "$repo" --format markdown --detailed-exitcode --out "$out/plan.md")
  if [ -n "${LABSYNC_OBSERVATIONS:-}" ]; then plan_args+=(--observations "$LABSYNC_OBSERVATIONS"); fi
  labsync "${plan_args[@]}" 2> "$out/plan.err" || status=$?
  cat "$out/plan.err" >&2
  { printf '%s\n' "$marker"
    if [ "$status" = 1 ]; then
      # The errors, without the progress lines (they stay in the job log).
      printf '**labsync plan failed**\n\n```\n'; grep -v '^progress: ' "$out/plan.err" || true; printf '```\n\n'
    fi
    [ ! -s "$out/plan.md" ] || cat "$out/plan.md"
  } > "$out/comment.md"
else
  status=1
  cat "$out/validate.txt" >&2
  { printf '%s\n**labsync validate failed**: nothing was planned.\n\n```\n' "$marker"
    cat "$out/validate.txt"; printf '```\n'; } > "$out/comment.md"
fi

labsync_ci_upsert_comment "$out/comment.md" "$marker"
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "plan-exitcode=$status" >> "$GITHUB_OUTPUT"; fi
echo "labsync plan exit code: $status"
[ "$status" != 1 ]
