#!/usr/bin/env bash
# The tests, as the README says: `go test ./...` with any flags given here,
# then one line naming what was skipped for want of PostgreSQL, Chromium or axe-core and
# how to include it (go test shows a skip only with -v, so it would pass
# silently). Under CI=true nothing skips: those tests fail instead.
set -uo pipefail
cd "$(dirname "$0")/.."
go test "$@" ./...
status=$?
missing=()
if [ -z "${CRM_TEST_DATABASE_URL:-}" ]; then
	missing+=("the PostgreSQL tests (set CRM_TEST_DATABASE_URL, e.g. 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable')")
fi
if [ ! -x /usr/bin/chromium ]; then
	missing+=("the browser tests (apt-get install -y chromium)")
fi
if [ ! -f ui/testdata/axe/node_modules/axe-core/axe.min.js ]; then
	missing+=("the accessibility audit of the browser tests (npm ci --prefix ui/testdata/axe)")
fi
if [ ${#missing[@]} -gt 0 ]; then
	printf 'skipped: %s\n' "$(IFS=';'; echo "${missing[*]}" | sed 's/;/; and /g')"
fi
exit $status
