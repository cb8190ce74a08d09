"""The Feynman run with units (noise 0, 60 s, seed 0) with more operators on: the defaults plus
asin, acos, atan, sinh, cosh, tanh. Compared with ../feynman-units (the defaults), it decides
which operators a fit uses by default. Resumable like every `eurisko bench` folder.

    python docs/results/2026-12-06/feynman-units-ops/run.py
"""

from pathlib import Path

from eurisko.bench import run_suite
from eurisko.bench.run import format_record
from eurisko.expr.operators import DEFAULT_OPERATORS

HERE = Path(__file__).resolve().parent
EXTRA = ("asin", "acos", "atan", "sinh", "cosh", "tanh")

if __name__ == "__main__":
    run_suite("feynman", methods=["eurisko"], noise=[0.0], seeds=1, time_limit=60.0, out=HERE,
              jobs=2, threads=1, units=True, progress=False,
              options={"eurisko": {"operators": [*DEFAULT_OPERATORS, *EXTRA]}},
              on_record=lambda r: print(format_record(r), flush=True))
