"""eurisko: discover the mathematical laws hidden in data."""

from eurisko.expr.operators import register_operator
from eurisko.version import __version__

__all__ = ["SymbolicRegressor", "register_operator", "__version__"]


def __getattr__(name: str):
    # The estimator pulls in pandas and scikit-learn; load them only when asked for.
    if name == "SymbolicRegressor":
        from eurisko.regressor import SymbolicRegressor

        return SymbolicRegressor
    raise AttributeError(f"module 'eurisko' has no attribute {name!r}")
