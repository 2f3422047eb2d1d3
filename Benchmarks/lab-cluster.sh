#!/usr/bin/env bash
# The PostgreSQL cluster on the lab (scripts/lab), measured: `lab up` time, a replica made by Setpoint over SSH
# against pg_basebackup + pg_ctl start by hand on the same hosts, and plan time of the three-host cluster with and
# without SSH multiplexing, with the logins each plan makes per host (from the hosts' sshd logs).
#
#   Benchmarks/lab-cluster.sh [SETPOINT_BINARY] [RUNS]     # as root; default .build/debug/setpoint, 5 runs
#
# Uses its own lab (prefix spbench, /run/setpoint-lab-bench) and takes it down at the end.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$(realpath "${1:-$ROOT/.build/debug/setpoint}")"
RUNS=${2:-5}
export SETPOINT_LAB_DIR=/run/setpoint-lab-bench SETPOINT_LAB_PREFIX=spbench
export LAB_PG_PASSWORD=bench-pg LAB_REPLICATION_PASSWORD=bench-repl
export SETPOINT_LAB_PG_PASSWORD=$LAB_PG_PASSWORD SETPOINT_LAB_REPLICATION_PASSWORD=$LAB_REPLICATION_PASSWORD
LAB="$ROOT/scripts/lab"
WORK="$(mktemp -d /tmp/setpoint-lab-bench.XXXXXX)"
trap '"$LAB" down >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l | xargs printf '%.3f'; }
logins() { grep -c "Accepted publickey" "$SETPOINT_LAB_DIR/hosts/$1/var-log/sshd.log" || true; }

start=$(now)
"$LAB" up 3 >/dev/null
echo "lab up 3: $(since "$start") s"
"$LAB" postgres h1 >/dev/null

stack() { # members…
    python3 - "$SETPOINT_LAB_DIR/inventory.json" "$@" >"$WORK/stack.yaml" <<'PY'
import json, sys
inv = json.load(open(sys.argv[1]))
docs = []
for h in inv["hosts"]:
    docs.append(f"""apiVersion: setpoint/v1
kind: Host
metadata: {{name: {h['name']}}}
spec:
  address: {h['address']}
  ssh: {{user: {inv['sshUser']}, privateKey: {{file: {inv['privateKey']}}}, hostKeys: ["{h['hostKey']}"]}}
""")
members = "\n".join(f"    - {{name: pg-{m[1:]}, runsOn: {m}, dataDirectory: /var/lib/postgresql/15/main}}" for m in sys.argv[2:])
docs.append(f"""apiVersion: setpoint/v1
kind: PostgresCluster
metadata: {{name: main}}
spec:
  version: 15
  primary: pg-1
  members:
{members}
  connection: {{password: {{env: LAB_PG_PASSWORD}}}}
  replication: {{password: {{env: LAB_REPLICATION_PASSWORD}}}}
""")
print("---\n".join(docs))
PY
}
sp() { (cd "$WORK" && "$LAB" ops "$BIN" "$@"); }

# A replica by Setpoint (slot, pg_basebackup as a job on h2, settings, start, until it streams).
stack h1
sp import PostgresCluster/main stack.yaml >/dev/null
stack h1 h2
start=$(now)
sp apply stack.yaml --auto-approve >/dev/null
echo "replica pg-2 on h2 made by Setpoint over SSH (apply: plan, copy, start, streaming): $(since "$start") s"

# The same by hand on h3: pg_basebackup and pg_ctl start (no slot, no wait for streaming).
start=$(now)
printf '%s\n' "$LAB_REPLICATION_PASSWORD" | "$LAB" exec h3 /bin/sh -c '
    read -r p; umask 077; printf "*:*:*:*:%s\n" "$p" >/tmp/pass; chown postgres /tmp/pass
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_basebackup -d "host=10.213.0.11 user=replicator passfile=/tmp/pass" \
        -D /var/lib/postgresql/15/hand -X stream -c fast -R >/dev/null
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/hand -l /tmp/hand.log -w start >/dev/null
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /var/lib/postgresql/15/hand -w stop >/dev/null
    rm -rf /var/lib/postgresql/15/hand /tmp/pass'
echo "the same by hand on h3 (pg_basebackup + pg_ctl start): $(since "$start") s"

stack h1 h2 h3
sp apply stack.yaml --auto-approve >/dev/null
for mode in on off; do
    total=0
    before="$(logins h1) $(logins h2) $(logins h3)"
    for _ in $(seq "$RUNS"); do
        start=$(now)
        SETPOINT_SSH_MULTIPLEX=$mode sp plan stack.yaml --detailed-exitcode >/dev/null
        total=$(echo "$total + $(since "$start")" | bc -l)
    done
    after="$(logins h1) $(logins h2) $(logins h3)"
    read -r b1 b2 b3 <<<"$before"
    read -r a1 a2 a3 <<<"$after"
    printf 'plan of the three-host cluster, multiplexing %s: %.3f s (mean of %d); logins per plan h1 %s, h2 %s, h3 %s\n' \
        "$mode" "$(echo "$total / $RUNS" | bc -l)" "$RUNS" \
        "$(((a1 - b1) / RUNS))" "$(((a2 - b2) / RUNS))" "$(((a3 - b3) / RUNS))"
done

# Where SSH carries most: re-making a replica (postgres reinit: stop, move aside, copy as a job, settings, start).
for mode in on off; do
    before=$(logins h3)
    start=$(now)
    (cd "$WORK" && SETPOINT_SSH_MULTIPLEX=$mode "$LAB" ops "$BIN" postgres reinit main pg-3 stack.yaml --yes >/dev/null)
    printf 'postgres reinit of pg-3 on h3, multiplexing %s: %s s, %d logins to h3\n' "$mode" "$(since "$start")" \
        "$(($(logins h3) - before))"
done
