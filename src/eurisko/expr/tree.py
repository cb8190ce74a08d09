"""Postfix programs as nested tuples, and subtree extents on the flat form.

The flat postfix ``Program`` is the one stored form; the tree is a throw-away view for code
that reads more naturally recursively (printing, the SymPy bridge, simplification).

A tree node is a plain tuple whose first item is the op code:

- ``(VAR, column)`` — a variable;
- ``(CONST, value)`` — a constant, holding its float value (not an index), so rebuilding a
  program numbers constants afresh, one per constant node, in order of first appearance;
- ``(code, child)`` or ``(code, left, right)`` — an operator.

Tuples compare structurally, so ``a == b`` tells whether two subtrees are the same formula.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eurisko.expr.operators import CONST, VAR, registry
from eurisko.expr.program import Program

Node = tuple


_ARITY_CACHE: tuple[tuple, list[int]] = ((), [0, 0])


def _arities() -> list[int]:
    """Arity of every op code, rebuilt whenever the registry changes."""
    global _ARITY_CACHE
    ops = registry()
    if ops != _ARITY_CACHE[0]:
        _ARITY_CACHE = (ops, [0, 0] + [op.arity for op in ops])
    return _ARITY_CACHE[1]


def subtree_sizes(codes: np.ndarray) -> np.ndarray:
    """Size of the subtree ending at each node: node ``i`` spans ``i - size[i] + 1 .. i``.

    Used by mutation in the search loop, so it is one pass over plain Python ints.
    ``codes`` must be a well-formed postfix program.
    """
    ar = _arities()
    codes = codes.tolist() if isinstance(codes, np.ndarray) else list(codes)
    sizes = [1] * len(codes)
    for i, c in enumerate(codes):
        a = ar[c]
        if a == 1:
            sizes[i] = sizes[i - 1] + 1
        elif a == 2:
            right = sizes[i - 1]
            sizes[i] = right + sizes[i - 1 - right] + 1
    return np.array(sizes, dtype=np.int64)


def subtree_start(codes: np.ndarray, i: int) -> int:
    """Index of the first node of the subtree that ends at node ``i``."""
    return int(i - subtree_sizes(codes[: i + 1])[i] + 1)


def node_count(node: Node) -> int:
    """Nodes of a tree (the length its program will have)."""
    return 1 if node[0] in (VAR, CONST) else 1 + sum(node_count(c) for c in node[1:])


def to_tree(program: Program) -> Node:
    """The nested-tuple view of ``program`` (see the module docstring)."""
    ar = _arities()
    consts = program.consts.tolist()
    stack: list[Node] = []
    try:
        for code, arg in zip(program.codes.tolist(), program.args.tolist(), strict=True):
            if code == VAR:
                stack.append((VAR, arg))
            elif code == CONST:
                stack.append((CONST, consts[arg]))
            elif ar[code] == 1:
                stack.append((code, stack.pop()))
            else:
                b = stack.pop()
                stack.append((code, stack.pop(), b))
    except IndexError:
        program.validate()
        raise
    if len(stack) != 1:
        program.validate()
    return stack[0]


def from_tree(node: Node) -> Program:
    """The postfix program of a tree; each constant node gets its own slot, in order."""
    codes: list[int] = []
    args: list[int] = []
    consts: list[float] = []

    def walk(n: Node) -> None:
        code = n[0]
        if code == VAR:
            codes.append(VAR)
            args.append(n[1])
        elif code == CONST:
            codes.append(CONST)
            args.append(len(consts))
            consts.append(n[1])
        else:
            walk(n[1])
            if len(n) == 3:
                walk(n[2])
            codes.append(code)
            args.append(0)

    try:
        walk(node)
    except RecursionError:  # trees deeper than the recursion limit (long sums from SymPy)
        codes.clear(), args.clear(), consts.clear()
        _walk_iterative(node, codes, args, consts)
    return Program(np.array(codes, dtype=np.int16), np.array(args, dtype=np.int32),
                   np.array(consts, dtype=np.float64))


def _walk_iterative(node: Node, codes: list[int], args: list[int], consts: list[float]) -> None:
    todo: list[tuple[Node, bool]] = [(node, False)]
    while todo:
        n, expanded = todo.pop()
        code = n[0]
        if code == VAR:
            codes.append(VAR)
            args.append(n[1])
        elif code == CONST:
            codes.append(CONST)
            args.append(len(consts))
            consts.append(n[1])
        elif expanded:
            codes.append(code)
            args.append(0)
        else:
            todo.append((n, True))
            todo.extend((child, False) for child in reversed(n[1:3]))


def variable_names(program: Program, names: Sequence[str] | None) -> list[str]:
    """Names for every column the program reads; x0, x1, ... when none are given."""
    vidx = program.args[program.codes == VAR]
    need = int(vidx.max()) + 1 if len(vidx) else 0
    if names is None:
        return [f"x{i}" for i in range(need)]
    names = [str(n) for n in names]
    if need > len(names):
        raise ValueError(
            f"the formula reads column {need - 1} but only {len(names)} variable names were "
            f"given ({', '.join(names) or 'none'}); pass one name per data column"
        )
    return names
