#!/usr/bin/env bash
# The steps of the GitHub Action (action.yml), as a script that runs anywhere: validate
# the data against the schema, write a Markdown summary to $GITHUB_STEP_SUMMARY (when
# set), print GitHub workflow annotations, and exit with validate's verdict (0, 1, 2).
#
# Inputs, as environment variables (the action sets them from its `with:`):
#   PREFLIGHT_DATA      files, globs or directories (space-separated)       (required)
#   PREFLIGHT_SCHEMA    the schema file; empty: the config file's [validate] schema
#   PREFLIGHT_FAIL_ON   error (default) or warning
#   PREFLIGHT_BIN       the binary (default: preflight on PATH)
set -uo pipefail
bin="${PREFLIGHT_BIN:-preflight}"
: "${PREFLIGHT_DATA:?set PREFLIGHT_DATA to the data to validate}"
read -r -a data <<<"$PREFLIGHT_DATA"
args=(validate "${data[@]}" --fail-on "${PREFLIGHT_FAIL_ON:-error}")
if [ -n "${PREFLIGHT_SCHEMA:-}" ]; then
  args+=(--schema "$PREFLIGHT_SCHEMA")
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  # The summary's run may fail the same way as the next; its exit code is the next one's.
  summary="$(mktemp)"
  "$bin" "${args[@]}" --format markdown -o "$summary" >/dev/null 2>&1
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
  rm -f "$summary"
fi
"$bin" "${args[@]}" --format github
