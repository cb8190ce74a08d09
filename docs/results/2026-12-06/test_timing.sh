#!/usr/bin/env bash
# make test's pytest step, cold (fresh kernel cache, no __pycache__) then warm, base vs this commit.
set -u
PY=/work/main/.venv/bin/python
for pass in cold warm; do
  for tree in /work/wt-base /work/main; do
    name=$(basename $tree)
    if [ $pass = cold ]; then
      find $tree/src -name __pycache__ -type d -prune -exec rm -rf {} +
      rm -rf /tmp/timing/cache-$name
    fi
    cd $tree
    start=$(date +%s.%N)
    EURISKO_CACHE_DIR=/tmp/timing/cache-$name PYTHONPATH=$tree/src $PY -m pytest -q -x -p no:cacheprovider > /tmp/timing/$pass-$name.log 2>&1
    rc=$?
    end=$(date +%s.%N)
    echo "$pass $name rc=$rc wall=$(echo "$end - $start" | bc) $(tail -1 /tmp/timing/$pass-$name.log)" | tee -a /tmp/timing/summary.txt
  done
done
