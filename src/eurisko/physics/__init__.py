"""Physics: units of physical data, to hand the search easier, dimensionless problems.

`units` reads the units a physicist gives her columns (with pint) as exact exponents over the
SI base dimensions, PMLB's unit descriptions, and named physical constants.
"""

from eurisko.physics.units import (
    BASE_DIMENSIONS,
    Constant,
    Unit,
    parse_unit,
    parse_units,
    physical_constant,
    pmlb_unit,
)

__all__ = ["BASE_DIMENSIONS", "Constant", "Unit", "parse_unit", "parse_units",
           "physical_constant", "pmlb_unit"]
