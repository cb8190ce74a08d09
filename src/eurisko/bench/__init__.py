"""Benchmarks against known laws: suites of problems, runners, SRBench's scoring rules.

    from eurisko.bench import load_suite, run_suite
    suite = load_suite("feynman")            # also "strogatz", "classic", "classic:nguyen"
    results = run_suite(suite, methods=["eurisko", "pyoperon"], noise=[0, 0.01], seeds=3,
                        time_limit=60, out="bench/feynman")

The peers (pyoperon, gplearn) and the search are imported only when a run needs them.
"""

from eurisko.bench.exact import RecoveryCheck, check_recovery, is_exact_recovery, symbols_of
from eurisko.bench.feynman import FeynmanProblem, load_problem, load_problems, parse_formula
from eurisko.bench.problem import Problem, Split
from eurisko.bench.run import BenchResults, read_results, run_suite
from eurisko.bench.suite import SUITES, Suite, load_suite

__all__ = [
    "SUITES",
    "BenchResults",
    "FeynmanProblem",
    "Problem",
    "RecoveryCheck",
    "Split",
    "Suite",
    "check_recovery",
    "is_exact_recovery",
    "load_problem",
    "load_problems",
    "load_suite",
    "parse_formula",
    "read_results",
    "run_suite",
    "symbols_of",
]
