"""eurisko: discover the mathematical laws hidden in data."""

from eurisko.expr.operators import register_operator

__version__ = "0.1.0"

__all__ = ["register_operator", "__version__"]
