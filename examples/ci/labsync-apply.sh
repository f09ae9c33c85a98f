#!/usr/bin/env bash
# CI on the default branch, for teams that do not run the daemon: validate,
# apply, then record what the hosts look like (`status --format json`) for the
# request pipelines that plan without host access (LABSYNC_OBSERVATIONS).
#
# Environment: LABSYNC_REPO, LABSYNC_SSH_KEY, LABSYNC_STATE_DIR as for labsync-plan-comment.sh;
#   LABSYNC_STATUS_OUT  where to write the recorded status (default: labsync-status.json)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=labsync-ci-lib.sh
. "$here/labsync-ci-lib.sh"

repo=${LABSYNC_REPO:-.}
labsync --version
labsync_ci_install_key
labsync_ci_state_args
labsync validate "${labsync_state[@]}" "$repo"
labsync apply "${labsync_state[@]}" --repo "$repo" --yes
labsync status "${labsync_state[@]}" --repo "$repo" --format json > "${LABSYNC_STATUS_OUT:-labsync-status.json}"
