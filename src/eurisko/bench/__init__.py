"""Benchmarks against known laws: SRBench's exact-recovery rule and the Feynman problems."""

from eurisko.bench.exact import RecoveryCheck, check_recovery, is_exact_recovery, symbols_of
from eurisko.bench.feynman import FeynmanProblem, load_problem, load_problems, parse_formula

__all__ = [
    "FeynmanProblem",
    "RecoveryCheck",
    "check_recovery",
    "is_exact_recovery",
    "load_problem",
    "load_problems",
    "parse_formula",
    "symbols_of",
]
