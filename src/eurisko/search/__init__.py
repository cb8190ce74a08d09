"""Evolution of formulas: islands of postfix programs, mutation and crossover, the hall of
fame, the final Pareto front, checkpoints, and the driver that runs islands on an executor
(this process, local worker processes or a Dask cluster).

`run_search` evolves islands on a `eurisko.evaluate.Dataset` under a `SearchConfig` until a
time, evaluation or loss budget is spent and returns a `SearchState` (islands, hall of fame,
counters) that `save_state`/`load_state` checkpoint; `final_front` turns its hall of fame into
the Pareto front and `select_index` picks one row. Users reach all this through
`eurisko.SymbolicRegressor`. `enumerate_formulas` walks every formula of a few nodes
instead, for problems of one to three variables, and returns the exact ones. The package
talks to `eurisko.evaluate` and `eurisko.fit` only through their contracts, never knowing
which backend runs.
"""

from eurisko.search.checkpoint import load_state, save_state
from eurisko.search.engine import SearchProgress, SearchState, default_backend, run_search
from eurisko.search.enumerate import EnumerationResult, Found, enumerate_formulas
from eurisko.search.front import FrontEntry, final_front, select_index
from eurisko.search.hall_of_fame import HallOfFame
from eurisko.search.island import Island, SearchConfig

__all__ = [
    "EnumerationResult",
    "Found",
    "FrontEntry",
    "HallOfFame",
    "Island",
    "SearchConfig",
    "SearchProgress",
    "SearchState",
    "default_backend",
    "enumerate_formulas",
    "final_front",
    "load_state",
    "run_search",
    "save_state",
    "select_index",
]
