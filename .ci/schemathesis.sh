#!/usr/bin/env bash
# Fuzz the live OpenAPI schema with schemathesis, once per persona (docs/api.md, "Fuzzing in CI").
#
# A throwaway SQLite database is migrated and seeded with the demo data; `fuzz_credentials` mints an API
# key for a lab admin, a vendor manager and an independent expert and a browser session for finance and
# operations staff; gunicorn serves the site on a free loopback port; `st run` then exercises every
# operation of /api/schema/ with each persona's credentials; `fuzz_dictionaries` makes path parameters name
# real objects (any tenant's) in part of the cases, so operations get past the 404 to the code behind it. Fails on any 5xx, any response that does
# not match its documented schema, and any undocumented status code.
# One gunicorn worker: SQLite takes one writer at a time ("database is locked" otherwise). Two operations
# are left out because the fuzzer would cut off its own credentials with them (revoking the persona's key,
# removing the persona from its organisation); tests/api covers both.
#
# Usage: bash .ci/schemathesis.sh            (from the repository root; needs .venv with the dev extras)
# Knobs: FUZZ_EXAMPLES (examples per operation and phase, default 5), FUZZ_PHASES (default examples,fuzzing;
# add coverage for a deeper, slower run), FUZZ_PERSONAS (space-separated
# subset), FUZZ_WORKERS (schemathesis workers, default 2), FUZZ_REAL_IDS=0 (random path ids only), FUZZ_KEEP=1
# keeps the work directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PY:-.venv/bin/python}
ST=${ST:-.venv/bin/st}
GUNICORN=${GUNICORN:-.venv/bin/gunicorn}
EXAMPLES=${FUZZ_EXAMPLES:-5}
WORKERS=${FUZZ_WORKERS:-2}
PERSONAS=${FUZZ_PERSONAS:-"lab_admin vendor_manager expert finance operations"}

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "${FUZZ_KEEP:-0}" = "1" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# What `make run` sees (local settings, tasks in-process), on its own database; the throttle is a
# fairness quota, not what is under test, so it is raised beyond what a run sends.
export DATABASE_URL="sqlite:///${WORK}/fuzz.sqlite3"
export API_KEY_THROTTLE_RATE="1000000/hour"
unset CELERY_BROKER_URL DJANGO_SETTINGS_MODULE || true

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py seed_demo >"$WORK/seed.log"
"$PY" manage.py fuzz_credentials >"$WORK/credentials.tsv"
if [ "${FUZZ_REAL_IDS:-1}" = "1" ]; then  # real ids for path parameters, part of the time
  "$PY" manage.py fuzz_dictionaries >"$WORK/schemathesis.toml"
else
  : >"$WORK/schemathesis.toml"
fi

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:${PORT}"
(exec "$GUNICORN" marketplace.wsgi:application --bind "127.0.0.1:${PORT}" --workers 1 --timeout 60 --limit-request-line 0 \
  --access-logfile "$WORK/access.log" --error-logfile "$WORK/server.log") &
SERVER_PID=$!
for _ in $(seq 60); do
  curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break
  sleep 1
done
curl -fsS -o /dev/null "$BASE/healthz" || {
  cat "$WORK/server.log" >&2
  echo "gunicorn did not answer on $BASE" >&2
  exit 1
}

failed=0
started=$(date +%s)
for persona in $PERSONAS; do
  line=$(grep -P "^${persona}\t" "$WORK/credentials.tsv") || {
    echo "no credentials for persona $persona" >&2
    exit 1
  }
  headers=()
  IFS=$'\t' read -r -a fields <<<"$line"
  for header in "${fields[@]:1}"; do headers+=(-H "$header"); done
  echo
  echo "--- schemathesis as ${persona} (${EXAMPLES} examples per operation and phase)"
  seen=$(wc -l <"$WORK/access.log")
  set +e
  "$ST" --config-file "$WORK/schemathesis.toml" run "$BASE/api/schema/" "${headers[@]}" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance \
    --phases "${FUZZ_PHASES:-examples,fuzzing}" \
    --max-examples "$EXAMPLES" --workers "$WORKERS" --seed 20261126 --no-shrink \
    --exclude-operation-id organizations_api_keys_revoke --exclude-operation-id organizations_members_destroy \
    --request-timeout 30 --suppress-health-check all --warnings off \
    --report junit --report-junit-path "$WORK/${persona}.xml" 2>&1 | tee "$WORK/${persona}.log" | tail -n 40
  rc=${PIPESTATUS[0]}
  set -e
  # The responses by status class, from the access log (field 9 is the status in gunicorn's default format).
  tail -n +"$((seen + 1))" "$WORK/access.log" | awk -v who="$persona" '
    { n++; c[substr($9, 1, 1) "xx"]++ }
    END { printf "%s: %d responses, 2xx %.1f%%, 4xx %.1f%%, 5xx %d\n", who, n, 100 * c["2xx"] / n, 100 * c["4xx"] / n, c["5xx"] }'
  [ "$rc" -eq 0 ] || failed=1
done
echo
echo "schemathesis: $(($(date +%s) - started)) s for personas: ${PERSONAS}"
if [ "$failed" -ne 0 ]; then
  echo "--- last server log lines" >&2
  tail -n 60 "$WORK/server.log" >&2
  echo "schemathesis found failures (5xx, schema or status-code mismatches) above" >&2
  exit 1
fi
