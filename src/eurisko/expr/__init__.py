"""What a formula is: operators, postfix programs, printing, SymPy, parsing, simplification."""

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
from eurisko.expr.parser import parse, parse_sympy
from eurisko.expr.printing import to_latex, to_string
from eurisko.expr.program import Program, ProgramBatch, const, var
from eurisko.expr.simplify import canonical_key, simplify
from eurisko.expr.tree import from_tree, subtree_sizes, subtree_start, to_tree

_LAZY = {"from_sympy", "to_sympy"}  # the SymPy bridge imports sympy (~0.4 s): load on demand


def __getattr__(name: str):
    if name in _LAZY:
        from eurisko.expr import sympy_bridge

        return getattr(sympy_bridge, name)
    raise AttributeError(f"module 'eurisko.expr' has no attribute {name!r}")

__all__ = [
    "CONST", "DEFAULT_OPERATORS", "VAR", "Operator", "Program", "ProgramBatch", "const",
    "get_operator", "op_code", "operator_of", "register_operator", "registry",
    "resolve_operators", "var",
    "canonical_key", "from_sympy", "from_tree", "parse", "parse_sympy", "simplify",
    "subtree_sizes", "subtree_start", "to_latex", "to_string", "to_sympy", "to_tree",
]
