#!/usr/bin/env bash
# One-time (idempotent) Prefect setup for reel: the process work pool that prefect.yaml names,
# a global concurrency limit per GPU (`gpu`, `gpu-1`, ...) every model task holds, one slot each,
# and the automation that marks a run Crashed when its process is gone (app/lost_runs.py).
#
#   deployments/setup.sh              # slots = number of GPUs nvidia-smi lists (1 if none)
#   GPUS=2 deployments/setup.sh       # say how many
#
# Needs PREFECT_API_URL (or a Prefect profile) pointing at the server.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
POOL="${REEL_POOL:-reel-process}"
SLOT="${REEL_GPU_SLOT:-gpu}"
if [ -z "${GPUS:-}" ]; then
  GPUS=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)
fi
[ "${GPUS:-0}" -ge 1 ] 2>/dev/null || GPUS=1

prefect() { "$PY" -m prefect --no-prompt "$@"; }

# Create first (one CLI call on a fresh server); on failure, check what is there.
if prefect work-pool create "$POOL" --type process >/dev/null 2>&1; then
  echo "work pool $POOL: created (process)"
else
  prefect work-pool inspect "$POOL" >/dev/null
  echo "work pool $POOL: exists"
fi

# One limit of one slot per GPU (REEL_GPU=N uses `gpu` for N=0, `gpu-N` otherwise).
for ((i = 0; i < GPUS; i++)); do
  name="$SLOT"; [ "$i" -eq 0 ] || name="$SLOT-$i"
  if prefect gcl create "$name" --limit 1 >/dev/null 2>&1; then
    echo "concurrency limit $name: 1 slot (created)"
  else
    prefect gcl update "$name" --limit 1 --enable >/dev/null
    echo "concurrency limit $name: 1 slot (updated)"
  fi
done

# A run whose worker and process died together (a lost machine) is Crashed after a few silent heartbeats.
"$PY" -m app.lost_runs
