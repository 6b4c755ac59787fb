#!/usr/bin/env bash
# Local operation of reel on Prefect: the targets behind `make server|deploy|worker|stop`.
#
#   ops.sh server   Prefect server + UI on 127.0.0.1:$PREFECT_PORT (4200) and a static file server
#                   for the artifact root ($REEL_ROOT, default outputs/) on 127.0.0.1:$ARTIFACT_PORT
#                   (4201; app/artifact_server.py: regular files inside the root only, no listings),
#                   so image and link artifacts open in the browser; both in the background,
#                   pid files and logs in $REEL_RUN_DIR (.prefect/run/)
#   ops.sh deploy   work pool + `gpu` limit (deployments/setup.sh), then `prefect deploy --all`
#   ops.sh worker   a process worker on the pool, in the background (WORKER=name for more than one)
#   ops.sh stop     stop every process started above (TERM, then KILL after $STOP_GRACE=10 s), remove pid files
#   ops.sh status   what is running
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
RUN="${REEL_RUN_DIR:-.prefect/run}"  # .prefect/ is git-ignored
PORT="${PREFECT_PORT:-4200}"
ART_PORT="${ARTIFACT_PORT:-4201}"
POOL="${REEL_POOL:-reel-process}"
STOP_GRACE="${STOP_GRACE:-10}"
export PREFECT_API_URL="${PREFECT_API_URL:-http://127.0.0.1:$PORT/api}"
export REEL_PROJECT_DIR="${REEL_PROJECT_DIR:-$PWD}"
export PREFECT_SERVER_ANALYTICS_ENABLED="${PREFECT_SERVER_ANALYTICS_ENABLED:-false}" DO_NOT_TRACK="${DO_NOT_TRACK:-1}"
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start() {  # start NAME CMD...: run CMD in its own session (so stop can end its children too)
  local name=$1; shift
  if alive "$name"; then echo "$name: already running (pid $(cat "$RUN/$name.pid"))"; return 0; fi
  mkdir -p "$RUN"
  setsid "$@" >"$RUN/$name.log" 2>&1 < /dev/null &
  echo $! >"$RUN/$name.pid"
  echo "$name: started (pid $!, log $RUN/$name.log)"
}

wait_http() {  # wait_http URL SECONDS NAME
  local i
  for ((i = 0; i < $2 * 2; i++)); do
    if "$PY" -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
      return 0
    fi
    alive "$3" || { echo "$3 exited; see $RUN/$3.log" >&2; tail -20 "$RUN/$3.log" >&2; return 1; }
    sleep 0.5
  done
  echo "$3 did not answer on $1 within $2 s; see $RUN/$3.log" >&2
  return 1
}

stop_one() {
  local name=$1 pid i
  [ -f "$RUN/$name.pid" ] || return 0
  pid=$(cat "$RUN/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 2 * STOP_GRACE; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      # An idle Prefect 3.8 worker does not always exit on one SIGTERM (it re-sends itself SIGINT,
      # which can land on a blocked main thread); its runs, if any, are Crashed and resumable.
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      echo "$name: killed (pid $pid did not stop within $STOP_GRACE s of SIGTERM)"
    else
      echo "$name: stopped"
    fi
  fi
  rm -f "$RUN/$name.pid"
}

case "${1:-}" in
  server)
    # SQLite: a query waits 30 s (not 10) for the writer lock before a client sees a 503 (reel/env.py).
    PREFECT_SERVER_DATABASE_TIMEOUT="${PREFECT_SERVER_DATABASE_TIMEOUT:-30}" \
      start server "$PY" -m prefect server start --host 127.0.0.1 --port "$PORT"
    root="${REEL_ROOT:-outputs}"
    case "$root" in
      s3://*) echo "artifacts: $root is on S3; image and link artifacts use presigned URLs" ;;
      *) mkdir -p "$root"
         start artifacts "$PY" -m app.artifact_server "$ART_PORT" --bind 127.0.0.1 --directory "$root" ;;
    esac
    wait_http "http://127.0.0.1:$PORT/api/health" 180 server
    echo "Prefect UI: http://127.0.0.1:$PORT   API: $PREFECT_API_URL"
    if [ -f "$RUN/artifacts.pid" ]; then echo "artifact files: http://127.0.0.1:$ART_PORT/ (export REEL_ARTIFACT_URL=http://127.0.0.1:$ART_PORT for runs outside make worker)"; fi
    ;;
  deploy)
    PY="$PY" deployments/setup.sh
    "$PY" -m prefect --no-prompt deploy --all
    ;;
  worker)
    name="worker${WORKER:+-$WORKER}"
    if [ -f "$RUN/artifacts.pid" ]; then export REEL_ARTIFACT_URL="${REEL_ARTIFACT_URL:-http://127.0.0.1:$ART_PORT}"; fi
    # Poll for scheduled runs every 1 s (Prefect's default 10 s is on average 5 s of a reel's wait).
    export PREFECT_WORKER_QUERY_SECONDS="${PREFECT_WORKER_QUERY_SECONDS:-1}"
    start "$name" "$PY" -m prefect worker start --pool "$POOL" --name "$(hostname)-$name"
    ;;
  stop)
    for f in "$RUN"/worker*.pid; do
      if [ -e "$f" ]; then stop_one "$(basename "$f" .pid)"; fi
    done
    stop_one artifacts
    stop_one server
    ;;
  status)
    for f in "$RUN"/*.pid; do
      [ -e "$f" ] || { echo "nothing started"; break; }
      n=$(basename "$f" .pid); if alive "$n"; then echo "$n: running (pid $(cat "$f"))"; else echo "$n: not running"; fi
    done
    ;;
  *)
    echo "usage: $0 server|deploy|worker|stop|status" >&2
    exit 2
    ;;
esac
