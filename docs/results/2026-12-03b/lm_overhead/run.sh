#!/bin/sh
# LM bookkeeping before (44b8df3, checked out at $OLD) and after (this tree), CPU time.
# Usage: git worktree add --detach /tmp/old 44b8df3; OLD=/tmp/old/src sh run.sh
set -e
NEW=$(git rev-parse --show-toplevel)/src
export POP=${POP:-/tmp/pop.pkl}
PYTHONPATH=$NEW python breed.py make
for i in 1 2; do
  echo "old: $(PYTHONPATH=$OLD python lmcheck.py /tmp/lm_old.npy 160 60)"
  echo "new: $(PYTHONPATH=$NEW python lmcheck.py /tmp/lm_new.npy 160 60)"
done
python -c "
import numpy as np
a, b = np.load('/tmp/lm_old.npy'), np.load('/tmp/lm_new.npy')
d = np.abs(a - b) / np.maximum(np.abs(a), 1e-300)
print(f'{len(a)} values (losses, constants, n_evals, n_iter): {100 * (a == b).mean():.1f}% bit-equal, '
      f'largest relative difference {np.nanmax(d):.1e}; n_evals, n_iter old {a[-2:]}, new {b[-2:]}')"
echo "breeding: $(PYTHONPATH=$NEW python breed.py time 20)"
echo "CPU time by part of a 60,000-evaluation single-process search on I.29.16:"; PYTHONPATH=$NEW python parts.py I.29.16 60000
