"""Physics: one problem made into easier ones, the answers put back in the user's variables.

`units` reads the units a physicist gives her columns (with pint) as exact exponents over the
SI base dimensions, PMLB's unit descriptions, and named physical constants. `dimensional`
turns the units into a scale for the target and dimensionless groups of the columns
(Buckingham's Pi theorem), computes both on data and writes a law found on the groups back in
the original variables; `reduction` makes the search's data of it (groups, ``y/scale``,
weights under which the loss is the loss on ``y``). `separability` finds symmetries and
separability of a law in its data (after AI Feynman) and splits the data into parts a search
can solve one by one; `translation` makes the table after a translation symmetry (differences
of columns as columns) and writes a law found on it back. Nothing here changes what a
formula is: answers are re-fitted and scored on the user's data by the caller.
"""

from eurisko.physics.dimensional import (
    DimensionalAnalysis,
    analyze,
    scale_constant,
    scaled_target,
)
from eurisko.physics.reduction import Reduction, reduce_by_units
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
from eurisko.physics.translation import Translated, candidate_pairs, translate
from eurisko.physics.units import (
    BASE_DIMENSIONS,
    Constant,
    Unit,
    parse_unit,
    parse_units,
    physical_constant,
    pmlb_unit,
)

__all__ = [
    "BASE_DIMENSIONS", "Constant", "Decomposition", "DimensionalAnalysis", "Evidence", "Part",
    "Reduction", "Surrogate", "Translated", "Unit", "additive_separability", "analyze",
    "callable_surrogate", "candidate_pairs", "find_decomposition", "fit_surrogate",
    "multiplicative_separability", "parse_unit", "parse_units", "physical_constant",
    "pmlb_unit", "recombine", "reduce_by_units",
    "scale_constant", "scaled_target", "scaling_symmetry", "split_data", "structure_tests",
    "translate", "translation_symmetry",
]
