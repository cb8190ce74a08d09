"""Which differential equations drive this motion? Discover dx/dt = f(x) from trajectories.

    >>> from eurisko.dynamics import discover_ode
    >>> model = discover_ode(t, X, names=["x", "y", "z"])   # doctest: +SKIP
    >>> print(model)                                       # doctest: +SKIP
    dx/dt = -10.0*x + 10.0*y
    ...

The parts are small classes that can be swapped (as in PySINDy): differentiators
(`FiniteDifference`, `SavitzkyGolay`, `SmoothingSpline`, `Tikhonov`, `AutoDifferentiator`),
libraries (`PolynomialLibrary`, `CustomLibrary`), the weak formulation (`WeakForm`), the sparse
regression (`SparseRegression`) and the symbolic fallback (`SymbolicSearch`).
"""

from eurisko.dynamics.differentiation import (
    AutoDifferentiator,
    Differentiator,
    FiniteDifference,
    SavitzkyGolay,
    SmoothingSpline,
    Tikhonov,
    estimate_noise,
)
from eurisko.dynamics.discover import discover_ode
from eurisko.dynamics.library import ConcatLibrary, CustomLibrary, Library, PolynomialLibrary
from eurisko.dynamics.model import ODEModel
from eurisko.dynamics.simulate import SimulationResult, SimulationWarning
from eurisko.dynamics.sparse import SparseRegression
from eurisko.dynamics.symbolic import SymbolicSearch
from eurisko.dynamics.weak import WeakForm

__all__ = [
    "AutoDifferentiator", "ConcatLibrary", "CustomLibrary", "Differentiator", "FiniteDifference",
    "Library", "ODEModel", "PolynomialLibrary", "SavitzkyGolay", "SimulationResult",
    "SimulationWarning", "SmoothingSpline", "SparseRegression", "SymbolicSearch", "Tikhonov",
    "WeakForm", "discover_ode", "estimate_noise",
]
