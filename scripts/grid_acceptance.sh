#!/usr/bin/env bash
# The acceptance runs of `lionk grid` (README, section `lionk grid`), all on 127.0.0.1:
#   A  grids/toy_lambda.toml (240 cells) through the embedded default (LocalCluster, 1 worker/core)
#   B  the same grid through --scheduler: `dask scheduler` + two `dask worker` started here, then
#      stopped; C compares the two stores cell by cell
#   D  faults: the embedded run again; after 60 cells one worker process gets SIGKILL, after 140
#      the driver gets SIGKILL; the driver is restarted; the store is compared with A's
# Usage: scripts/grid_acceptance.sh [OUT_DIR] [PORT]   (run from the repository, venv active)
set -u
grid="$(cd "$(dirname "$0")/.." && pwd)/grids/toy_lambda.toml"
out="${1:-grid_acceptance}"; port="${2:-8786}"
mkdir -p "$out" && cd "$out" || exit 1
done_cells() {
    python -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
        \"SELECT COUNT(*) FROM tasks WHERE status = 'done'\").fetchone()[0])" "$1" 2>/dev/null || echo 0
}

echo "A: embedded default"
lionk grid run "$grid" --store embedded.sqlite 2> A.progress

echo "B: --scheduler tcp://127.0.0.1:$port with two workers started by hand"
python -m dask scheduler --host 127.0.0.1 --port "$port" --no-dashboard > scheduler.log 2>&1 &
scheduler=$!
sleep 5
for w in 1 2; do
    python -m dask worker "tcp://127.0.0.1:$port" --host 127.0.0.1 --nthreads 1 \
        --no-dashboard --name "w$w" > "worker$w.log" 2>&1 &
    workers="${workers:-} $!"
done
sleep 8
lionk grid run "$grid" --store scheduler.sqlite --scheduler "tcp://127.0.0.1:$port" 2> B.progress
kill -TERM $workers; sleep 5; kill -TERM $scheduler; wait

echo "C: compare"
lionk grid compare embedded.sqlite scheduler.sqlite

echo "D: a worker and then the driver killed with SIGKILL, the driver restarted"
lionk grid run "$grid" --store faults.sqlite > D1.out 2> D1.progress &
driver=$!
while [ "$(done_cells faults.sqlite)" -lt 60 ]; do sleep 0.5; done
worker=$(pgrep -P $driver -f spawn_main | head -1)
echo "SIGKILL to worker process $worker at $(done_cells faults.sqlite) cells done"
kill -KILL "$worker"
while [ "$(done_cells faults.sqlite)" -lt 140 ]; do sleep 0.5; done
echo "SIGKILL to the driver at $(done_cells faults.sqlite) cells done"
kill -KILL $driver; wait $driver 2>/dev/null
sleep 10  # the dead driver's worker processes notice and exit
lionk grid run "$grid" --store faults.sqlite 2> D2.progress
lionk grid status faults.sqlite
lionk grid compare embedded.sqlite faults.sqlite
