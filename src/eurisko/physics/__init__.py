"""Physics: units and dimensional analysis, to hand the search easier, dimensionless problems.

`units` reads the units a physicist gives her columns (with pint) as exact exponents over the
SI base dimensions, PMLB's unit descriptions, and named physical constants. `dimensional`
turns the units into a scale for the target and dimensionless groups of the columns
(Buckingham's Pi theorem), computes both on data, weights the search so that its loss on
``y/scale`` is the loss on ``y``, and writes a law found on the groups back in the original
variables. Nothing here changes what a formula is: answers are re-fitted and scored on the
user's data by the caller.
"""

from eurisko.physics.dimensional import (
    DimensionalAnalysis,
    analyze,
    scale_constant,
    scaled_target,
)
from eurisko.physics.reduction import Reduction, reduce_by_units
from eurisko.physics.units import (
    BASE_DIMENSIONS,
    Constant,
    Unit,
    parse_unit,
    parse_units,
    physical_constant,
    pmlb_unit,
)

__all__ = ["BASE_DIMENSIONS", "Constant", "DimensionalAnalysis", "Reduction", "Unit", "analyze",
           "reduce_by_units",
           "parse_unit", "parse_units", "physical_constant", "pmlb_unit", "scale_constant",
           "scaled_target"]
