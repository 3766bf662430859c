#!/usr/bin/env bash
# Side-by-side benchmark of the service and of the same work as raw SQL on the
# same PostgreSQL, in one run (docs/BENCHMARKS.md, "wrk and pgbench"):
#   wrk -t2 -c16  against a built cmd/crmleads (POST /leads, GET /leads/{id})
#   pgbench -c16 -j2 -M prepared  for the same work (scripts/bench/*.sql)
# It makes a fresh database, seeds it with `crmleads demo seed`, runs each
# pair alternately (raw SQL first) and prints a markdown table with the
# ratios, p50/p99 of the service, its resident memory and the load average.
#
#   scripts/bench.sh                       # 10 s per run, 20,000 seeded leads
#   DURATION=20s SEED=100000 REPLICAS=3 scripts/bench.sh
#
# Environment: PGURL (a server URL; default postgres://postgres@127.0.0.1:5432),
# DURATION, SEED, CLIENTS (16), REPLICAS (1; more start that many processes
# behind scripts/bench/lb, a round-robin httputil.ReverseProxy), KEEP=1 keeps
# the database.
# Needs wrk, pgbench and psql (Debian: apt-get install wrk postgresql-client).
set -euo pipefail
cd "$(dirname "$0")/.."

PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
DURATION="${DURATION:-10s}"
SEED="${SEED:-20000}"
CLIENTS="${CLIENTS:-16}"
REPLICAS="${REPLICAS:-1}"
for tool in wrk pgbench psql; do
	command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing (apt-get install wrk postgresql-client)" >&2; exit 1; }
done

work="$(mktemp -d)"
db="crm_bench_$(date +%s)_$$"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -z "${KEEP:-}" ]; then
		psql -q "$PGURL/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

psql -q -v ON_ERROR_STOP=1 "$PGURL/postgres?sslmode=disable" -c "CREATE DATABASE $db"
url="$PGURL/$db?sslmode=disable"
go build -o "$work/crmleads" ./cmd/crmleads

export DATABASE_URL="$url" CRM_AI_PROVIDER=baseline CRM_ADMIN_EMAIL=bench@example.com \
	CRM_ADMIN_PASSWORD=bench-password-long CRM_JWT_SECRET=0123456789abcdef0123456789abcdef CRM_LOG_LEVEL=info \
	CRM_RATE_LIMIT=0 # the per-request rate limit costs a statement of its own; off, as in crmbench
"$work/crmleads" migrate up >/dev/null
"$work/crmleads" demo seed --leads "$SEED" >/dev/null 2>&1
psql -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
CREATE TABLE bench_ids AS SELECT row_number() OVER ()::int AS k, id FROM leads;
ALTER TABLE bench_ids ADD PRIMARY KEY (k);
ANALYZE;
SQL
psql -At "$url" -c "SELECT id FROM bench_ids" >"$work/ids"
nids="$(wc -l <"$work/ids")"
owner="$(psql -At "$url" -c "SELECT id FROM users WHERE email = 'bench@example.com'")"

port=18600
addrs=()
for i in $(seq "$REPLICAS"); do
	CRM_ADDR="127.0.0.1:$((port + i))" "$work/crmleads" serve >"$work/serve$i.log" 2>&1 &
	pids+=("$!")
	addrs+=("127.0.0.1:$((port + i))")
done
target="http://${addrs[0]}"
if [ "$REPLICAS" -gt 1 ]; then
	# The replicas behind one address: the test's round-robin reverse proxy.
	go build -o "$work/lb" ./scripts/bench/lb
	"$work/lb" -listen "127.0.0.1:$port" "${addrs[@]}" >"$work/lb.log" 2>&1 &
	pids+=("$!")
	target="http://127.0.0.1:$port"
fi
# Every replica up, not only the first the balancer happens to ask.
for a in "${addrs[@]}" "${target#http://}"; do
	for _ in $(seq 100); do
		curl -fs "http://$a/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
done
token="$(curl -fs -H 'Content-Type: application/json' \
	-d '{"email":"bench@example.com","password":"bench-password-long"}' "$target/auth/login" |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
[ -n "$token" ] || { echo "bench.sh: sign-in failed" >&2; cat "$work/serve1.log" >&2; exit 1; }
export CRM_BENCH_TOKEN="$token" CRM_BENCH_IDS="$work/ids"

sample_rss() { # appends the largest VmRSS of the replicas, in kB, while $1 runs
	local rss_max=0
	while kill -0 "$1" 2>/dev/null; do
		for p in "${pids[@]:0:$REPLICAS}"; do
			r="$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)"
			[ "${r:-0}" -gt "$rss_max" ] && rss_max="$r"
		done
		sleep 0.1
	done
	echo "$rss_max" >>"$work/rss"
}

# wrk_run NAME SCRIPT: prints "req/s p50 p99 non2xx"
wrk_run() {
	CRM_BENCH_RUN="$RANDOM$RANDOM" wrk -t2 -c"$CLIENTS" -d"$DURATION" --latency -s "scripts/bench/$2" "$target" >"$work/$1.wrk" &
	local w=$!
	sample_rss "$w" &
	local s=$!
	wait "$w"
	wait "$s"
	awk '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {bad=$NF} END {printf "%s %s %s %s\n", rps, p50, p99, bad+0}' "$work/$1.wrk"
}
# pg_run NAME SCRIPT: prints "tps latency-average"
pg_run() {
	pgbench -n -M prepared -c"$CLIENTS" -j2 -T"${DURATION%s}" -D owner="$owner" -D nids="$nids" \
		-f "scripts/bench/$2" "$url" >"$work/$1.pgb" 2>&1 || { cat "$work/$1.pgb" >&2; exit 1; }
	awk '/^tps/ {tps=$3} /latency average/ {lat=$4 "ms"} END {printf "%s %s\n", tps, lat}' "$work/$1.pgb"
}

load0="$(cut -d' ' -f1-3 /proc/loadavg)"
read -r c4 c4lat < <(pg_run create4 create4.sql)
read -r c1 c1lat < <(pg_run create1 create1.sql)
read -r cr cp50 cp99 cbad < <(wrk_run create create.lua)
read -r g gl < <(pg_run get get.sql)
read -r gr gp50 gp99 gbad < <(wrk_run get get.lua)
load1="$(cut -d' ' -f1-3 /proc/loadavg)"

rss_max="$(sort -n "$work/rss" | tail -n1)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<EOF
| operation | service (wrk -t2 -c$CLIENTS, $REPLICAS replica(s)) | p50 / p99 | same work as raw SQL (pgbench -c$CLIENTS -j2) | ratio |
|---|---:|---:|---:|---:|
| create a lead (+ its event) | $(printf '%.0f' "$cr") req/s | $cp50 / $cp99 | $(printf '%.0f' "$c4") tps as a 4-statement transaction; $(printf '%.0f' "$c1") as one statement | $(ratio "$cr" "$c4") / $(ratio "$cr" "$c1") |
| read one lead by id | $(printf '%.0f' "$gr") req/s | $gp50 / $gp99 | $(printf '%.0f' "$g") tps (one full row by key) | $(ratio "$gr" "$g") |

non-2xx answers: create $cbad, get $gbad; max resident memory of a replica under load: $((rss_max / 1024)) MB;
answers of the service by status: $(cat "$work"/serve*.log | grep -o 'status=[0-9]*' | sort | uniq -c | tr -s ' ' | paste -sd, -);
$SEED seeded leads; $DURATION per run; load average before $load0, after $load1; $(date -u +%FT%TZ), $(git rev-parse --short HEAD).
EOF
