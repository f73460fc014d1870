#!/usr/bin/env bash
# Every vitest suite, in two lanes at once: the suites that mostly wait (a worker's lock running out,
# a Redis restarting, a cookie expiring) run beside the rest. Each lane runs its files one by one
# (vitest.config.ts); the lanes share nothing but the machine's Redis and Postgres, where every app
# has its own database and BullMQ prefix. Arguments go to the main lane (e.g. a reporter).
set -uo pipefail
cd "$(dirname "$0")/.."
WAITING=(tests/chaos/chaos.test.ts tests/api/recovery.test.ts tests/api/session-renewal.test.ts tests/api/accounts.test.ts)
excludes=()
for file in "${WAITING[@]}"; do excludes+=(--exclude "$file"); done
log=$(mktemp)
npx vitest run "${WAITING[@]}" >"$log" 2>&1 &
waiting=$!
npx vitest run "${excludes[@]}" "$@"
main=$?
wait "$waiting"
second=$?
echo
echo "== the waiting suites (${WAITING[*]})"
cat "$log"
rm -f "$log"
exit $((main != 0 || second != 0))
