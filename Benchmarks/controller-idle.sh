#!/usr/bin/env bash
# An idle controller over a large estate, and its HTTP API under load (all on 127.0.0.1).
#
#   swift build -c release --product setpoint && swift build -c release --product pve-sim
#   Benchmarks/controller-idle.sh [GUESTS] [IDLE_SECONDS] [BIN_DIR]      # defaults: 1000 120 .build/release
#
# 1. pve-sim with GUESTS guests (tagged setpoint) and manifests declaring exactly those guests;
# 2. `setpoint controller` at a 30 s interval; after its first pass, CPU (utime+stime from /proc) and RSS of the
#    controller process alone over IDLE_SECONDS;
# 3. wrk (if installed) against /healthz and /api/v1/resources?limit=100 with a token exempt from the rate limit.
# Every process started here is stopped by PID at exit.
set -euo pipefail
GUESTS=${1:-1000}
IDLE=${2:-120}
BIN=${3:-.build/release}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/setpoint-idle.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$DIR"
}
trap cleanup EXIT

"$BIN/pve-sim" --listen 127.0.0.1:0 --port-file "$DIR/pve.port" --ca-out "$DIR/ca.pem" --nodes 3 --guests "$GUESTS" \
    --guest-tag setpoint >"$DIR/pve-sim.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do [[ -s "$DIR/pve.port" ]] && break; sleep 0.1; done
PVE_PORT=$(cat "$DIR/pve.port")

mkdir -p "$DIR/m"
{
    printf 'apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata: {name: pve}\n'
    printf 'spec: {endpoints: ["https://127.0.0.1:%s"], tokenId: "root@pam!setpoint", tokenSecret: {env: PVE_TOKEN}, tls: {caFile: %s}, maxConcurrentRequests: 16}\n' \
        "$PVE_PORT" "$DIR/ca.pem"
    for ((i = 0; i < GUESTS; i++)); do
        vmid=$((100 + i))
        printf -- '---\napiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata: {name: sim-%s}\n' "$vmid"
        printf 'spec: {cluster: pve, vmid: %s, node: pve%s, cores: 2, memory: 2Gi, disks: {scsi0: {storage: ceph, size: 8Gi}}, networks: {net0: {bridge: vmbr0}}}\n' \
            "$vmid" "$((i % 3 + 1))"
    done
} >"$DIR/m/estate.yaml"

TOKEN_LINE=$("$BIN/setpoint" token create --role viewer --email bench@example.net)
TOKEN=$(printf '%s\n' "$TOKEN_LINE" | head -1 | awk '{print $NF}')
printf '%s unlimited\n' "$(printf '%s\n' "$TOKEN_LINE" | tail -1 | sed 's/^tokens file line: //')" >"$DIR/tokens"

export PVE_TOKEN=5e7d0000-0000-4000-8000-000000000001
"$BIN/setpoint" controller "$DIR/m" --interval 30s --listen 127.0.0.1:0 --tokens "$DIR/tokens" --state "$DIR/state.db" \
    >"$DIR/controller.log" 2>&1 &
CPID=$!
PIDS+=("$CPID")
for _ in $(seq 600); do grep -q ' pass ' "$DIR/controller.log" && break; sleep 0.1; done
API_PORT=$(grep -o 'API on http://127.0.0.1:[0-9]*' "$DIR/controller.log" | grep -o '[0-9]*$')
echo "first pass: $(grep ' pass ' "$DIR/controller.log" | head -1 | cut -c1-160)"

ticks() { awk '{print $14 + $15}' "/proc/$CPID/stat"; }
HZ=$(getconf CLK_TCK)
before=$(ticks)
sleep "$IDLE"
after=$(ticks)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$CPID/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$CPID/status")
echo "idle over ${IDLE}s with $GUESTS guests at a 30s interval: CPU $(echo "scale=2; 100 * ($after - $before) / $HZ / $IDLE" | bc) % of a core," \
    "RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB), passes: $(grep -c ' pass ' "$DIR/controller.log")"

if command -v wrk >/dev/null; then
    echo "--- wrk /healthz"
    wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$API_PORT/healthz" | grep -E 'Requests/sec|Latency|99%|50%'
    echo "--- wrk /api/v1/resources?limit=100"
    wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$API_PORT/api/v1/resources?limit=100" \
        | grep -E 'Requests/sec|Latency|99%|50%|Non-2xx'
else
    echo "wrk is not installed (apt-get install wrk): API load not measured"
fi
