#!/usr/bin/env bash
# Replica creation: `setpoint apply` (plan, observe, slot, pg_basebackup, start, wait for streaming, confirm) against
# the same steps by hand, on the same primary and data (pgbench scale 1, ~23 MB). Prints each run and the medians.
#
#   Benchmarks/replica-creation.sh [RUNS]        (as root; SETPOINT_BIN defaults to .build/release/setpoint)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
SETPOINT_BIN=${SETPOINT_BIN:-.build/release/setpoint}
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[[ -x $SETPOINT_BIN ]] || { echo "no $SETPOINT_BIN: swift build -c release --product setpoint (or set SETPOINT_BIN)" >&2; exit 1; }
DIR=$(mktemp -d /tmp/setpoint-replica-bench.XXXXXX)
chmod 755 "$DIR"; chown postgres "$DIR"
as_pg() { runuser -u postgres -- "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
cleanup() {
  for d in "$DIR"/pg-*; do [[ -f $d/postmaster.pid ]] && as_pg "$BIN/pg_ctl" -D "$d" -m immediate -w stop >/dev/null 2>&1 || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT
as_pg "$BIN/initdb" -D "$DIR/pg-1" -U postgres --auth=trust --no-sync >/dev/null
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nwal_log_hints = on\n" "$P1" "$DIR" | as_pg tee -a "$DIR/pg-1/postgresql.conf" >/dev/null
as_pg "$BIN/pg_ctl" -D "$DIR/pg-1" -l "$DIR/pg-1.log" -w start >/dev/null
as_pg "$BIN/pgbench" -h 127.0.0.1 -p "$P1" -U postgres -i -s 1 -q postgres >/dev/null 2>&1
psql() { command psql -h 127.0.0.1 -U postgres -XtAq "$@"; }
now() { date +%s.%N; }
wait_streaming() { until [[ $(psql -p "$P1" -c "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$1' AND state = 'streaming'") == 1 ]]; do sleep 0.01; done; }
drop_replica() {
  as_pg "$BIN/pg_ctl" -D "$DIR/pg-2" -m immediate -w stop >/dev/null
  rm -rf "$DIR/pg-2"
  until psql -p "$P1" -c "SELECT pg_drop_replication_slot('pg_2')" >/dev/null 2>&1; do sleep 0.05; done
}

mkdir -p "$DIR/m"
cat >"$DIR/m/cluster.yaml" <<YAML
apiVersion: setpoint/v1
kind: PostgresCluster
metadata: {name: bench}
spec:
  version: 15
  primary: pg-1
  binDirectory: $BIN
  members:
    - {name: pg-1, host: 127.0.0.1, port: $P1, dataDirectory: $DIR/pg-1}
    - {name: pg-2, host: 127.0.0.1, port: $P2, dataDirectory: $DIR/pg-2}
  connection: {user: postgres, sslmode: disable}
  replication: {user: postgres}
YAML
S=(--state "$DIR/state.db")
"$SETPOINT_BIN" import PostgresCluster/bench "$DIR/m" "${S[@]}" >/dev/null

by_hand=(); by_setpoint=()
for i in $(seq "$RUNS"); do
  t0=$(now)
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$DIR/pg-2" -R -C -S pg_2 -X stream -c fast -d application_name=pg-2
  echo "port = $P2" | as_pg tee -a "$DIR/pg-2/postgresql.auto.conf" >/dev/null
  as_pg "$BIN/pg_ctl" -D "$DIR/pg-2" -l "$DIR/pg-2.log" -w start >/dev/null
  wait_streaming pg-2
  t1=$(now); by_hand+=("$(echo "$t1 - $t0" | bc)")
  drop_replica

  t0=$(now)
  "$SETPOINT_BIN" apply "$DIR/m" "${S[@]}" --auto-approve >/dev/null
  wait_streaming pg-2
  t1=$(now); by_setpoint+=("$(echo "$t1 - $t0" | bc)")
  drop_replica
  printf 'run %d: by hand %.3f s, setpoint apply %.3f s\n' "$i" "${by_hand[-1]}" "${by_setpoint[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mh=$(median "${by_hand[@]}"); ms=$(median "${by_setpoint[@]}")
printf 'median: by hand %.3f s, setpoint apply %.3f s, ratio %.2f\n' "$mh" "$ms" "$(echo "$ms / $mh" | bc -l)"
