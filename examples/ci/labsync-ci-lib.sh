# shellcheck shell=bash
# Shared by the labsync CI scripts (sourced, not run). Commands: labsync, curl
# (or $CURL), jq.

# --state-dir LABSYNC_STATE_DIR, when set (a CI cache, or a test's own
# directory); else labsync's default. Fills the array labsync_state.
labsync_ci_state_args() {
  # shellcheck disable=SC2034 # read by the scripts that source this file
  if [ -n "${LABSYNC_STATE_DIR:-}" ]; then labsync_state=(--state-dir "$LABSYNC_STATE_DIR"); else labsync_state=(); fi
}

# The deploy key from the CI secret LABSYNC_SSH_KEY, written where the Host
# specs' identityFile names it (LABSYNC_SSH_KEY_PATH, ~/.ssh/labsync_ed25519 by
# default). Host keys are pinned in the specs (hostKeys), so nothing is trusted
# on first use. Without the secret, nothing is written (the --observations
# variant reaches no host).
labsync_ci_install_key() {
  [ -n "${LABSYNC_SSH_KEY:-}" ] || return 0
  local path=${LABSYNC_SSH_KEY_PATH:-$HOME/.ssh/labsync_ed25519}
  mkdir -p "$(dirname "$path")"
  (umask 077 && printf '%s\n' "$LABSYNC_SSH_KEY" > "$path")
}

# Posts BODY_FILE as the one comment on the pull or merge request that carries
# MARKER, or updates that comment: one comment per request, rewritten on each
# push, never a new one per run. The forge is GitHub (GITHUB_ACTIONS) or GitLab
# (GITLAB_CI), unless LABSYNC_FORGE says which.
labsync_ci_upsert_comment() {
  local body_file=$1 marker=$2 curl=${CURL:-curl}
  local forge=${LABSYNC_FORGE:-}
  if [ -z "$forge" ]; then
    if [ -n "${GITHUB_ACTIONS:-}" ]; then forge=github; elif [ -n "${GITLAB_CI:-}" ]; then forge=gitlab; fi
  fi
  local list_url item_url create_url method auth payload existing
  payload=$(mktemp)
  jq -n --rawfile body "$body_file" '{body: $body}' > "$payload"
  case $forge in
    github)
      # GITHUB_TOKEN needs `pull-requests: write`; the PR number comes from the event.
      local pr=${LABSYNC_PR:-$(jq -r .pull_request.number "$GITHUB_EVENT_PATH")}
      local api=${GITHUB_API_URL:-https://api.github.com}/repos/$GITHUB_REPOSITORY
      list_url="$api/issues/$pr/comments?per_page=100"
      create_url=$api/issues/$pr/comments
      item_url=$api/issues/comments
      method=PATCH
      auth="Authorization: Bearer $GITHUB_TOKEN"
      ;;
    gitlab)
      # A project access token (role Reporter, scope api) in the masked CI/CD
      # variable LABSYNC_GITLAB_TOKEN: CI_JOB_TOKEN cannot write notes.
      local api=$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes
      list_url="$api?per_page=100"
      create_url=$api
      item_url=$api
      method=PUT
      auth="PRIVATE-TOKEN: $LABSYNC_GITLAB_TOKEN"
      ;;
    *) echo "labsync-ci: not on GitHub Actions or GitLab CI; set LABSYNC_FORGE=github|gitlab" >&2; rm -f "$payload"; return 1 ;;
  esac
  # The token goes in a header read from standard input, never in argv.
  existing=$(printf '%s\n' "$auth" | "$curl" -fsS -H @- "$list_url" \
    | jq -r --arg m "$marker" '[.[] | select(.body | contains($m))][0].id // empty')
  if [ -n "$existing" ]; then
    printf '%s\n' "$auth" | "$curl" -fsS -o /dev/null -X "$method" -H @- -H "Content-Type: application/json" \
      --data-binary @"$payload" "$item_url/$existing"
    echo "labsync-ci: updated comment $existing"
  else
    printf '%s\n' "$auth" | "$curl" -fsS -o /dev/null -X POST -H @- -H "Content-Type: application/json" \
      --data-binary @"$payload" "$create_url"
    echo "labsync-ci: posted a comment"
  fi
  rm -f "$payload"
}
