#!/usr/bin/env bash
# man_pages_test.sh PAGE...: each man page formats without a warning
# (groff -man -ww: every warning enabled; a warning is a failure).
set -euo pipefail
command -v groff >/dev/null || {
  echo "SKIP: groff is not installed (scripts/common.sh installs groff-base)"
  exit 77
}
status=0
for page in "$@"; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  if [ -n "$warnings" ]; then
    echo "FAIL: $page:" >&2
    echo "$warnings" >&2
    status=1
  else
    echo "ok: $page"
  fi
done
exit $status
