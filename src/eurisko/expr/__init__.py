"""What a formula is: operators, postfix programs, printing, SymPy bridge, parsing, simplification."""

from eurisko.expr.operators import (
    CONST,
    DEFAULT_OPERATORS,
    VAR,
    Operator,
    get_operator,
    op_code,
    operator_of,
    register_operator,
    registry,
    resolve_operators,
)
from eurisko.expr.program import Program, ProgramBatch, const, var

__all__ = [
    "CONST", "DEFAULT_OPERATORS", "VAR", "Operator", "Program", "ProgramBatch", "const",
    "get_operator", "op_code", "operator_of", "register_operator", "registry",
    "resolve_operators", "var",
]
