"""Physics: one problem made into easier ones, the answers put back together.

`eurisko.physics.separability` finds symmetries and separability of a law in its data (after AI
Feynman) and splits the data into parts a search can solve one by one.
"""

from eurisko.physics.separability import (
    Decomposition,
    Evidence,
    Part,
    Surrogate,
    additive_separability,
    callable_surrogate,
    find_decomposition,
    fit_surrogate,
    multiplicative_separability,
    recombine,
    scaling_symmetry,
    split_data,
    structure_tests,
    translation_symmetry,
)

__all__ = [
    "Decomposition", "Evidence", "Part", "Surrogate", "additive_separability",
    "callable_surrogate", "find_decomposition", "fit_surrogate", "multiplicative_separability",
    "recombine", "scaling_symmetry", "split_data", "structure_tests", "translation_symmetry",
]
