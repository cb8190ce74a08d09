"""The layers of ../shared/DESIGN.md, checked on the package's source rather than described.

Every ``import`` of an eurisko module (at the top of a file or inside a function; not the ones
under ``if TYPE_CHECKING:``) is an arrow from the importing module to the imported one. The
arrows must point down the layers or stay within one, must not close a cycle, and must not
reach for another module's private names.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import eurisko

PACKAGE_DIR = Path(eurisko.__file__).parent

# Highest first, as in DESIGN.md. A module belongs to the first prefix that matches it
# (the root package ``eurisko`` is the facade users import, so it sits with the top layer).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("people", ("eurisko.cli", "eurisko.report", "eurisko.__main__", "eurisko")),
    ("questions", ("eurisko.regressor", "eurisko._branches", "eurisko._decompose",
                   "eurisko._outputs", "eurisko.dynamics", "eurisko.constants",
                   "eurisko.sequences", "eurisko.bench")),
    ("physics", ("eurisko.physics",)),
    ("search", ("eurisko.search",)),
    ("fit", ("eurisko.fit",)),
    ("evaluate", ("eurisko.evaluate",)),
    ("expr", ("eurisko.expr",)),
    # Small utilities that import nothing from eurisko; every layer may use them.
    ("utilities", ("eurisko.atomic", "eurisko.validation", "eurisko.version", "eurisko.data")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE_DIR.rglob("*.py"))}


def layer_of(module: str) -> int:
    """Index into LAYERS (0 is the top); the longest matching prefix decides."""
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer of LAYERS; add it where DESIGN.md puts it")
    return best


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Import statements that run, skipping ``if TYPE_CHECKING:`` blocks."""
    todo = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                todo.extend(child.orelse)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            todo.append(child)


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports() -> dict[str, list[tuple[str, str | None, int]]]:
    """For each module: (imported module, imported name or None, line) of every eurisko import."""
    known = modules()
    out: dict[str, list[tuple[str, str | None, int]]] = {}
    for mod, path in known.items():
        found = []
        for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(a.name, None, node.lineno) for a in node.names
                          if a.name.split(".")[0] == "eurisko"]
                continue
            target = _absolute(mod, path, node)
            if target.split(".")[0] != "eurisko":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in known:  # ``from eurisko.expr import tree``: the submodule
                    found.append((sub, None, node.lineno))
                else:
                    found.append((target, a.name, node.lineno))
        out[mod] = found
    return out


def test_every_module_has_a_layer():
    for mod in modules():
        layer_of(mod)


def test_utilities_import_nothing_from_eurisko():
    utilities = len(LAYERS) - 1
    wrong = [f"{mod} imports {target} (line {line})"
             for mod, found in imports().items() if layer_of(mod) == utilities
             for target, _, line in found]
    assert not wrong, "utilities must stand alone:\n" + "\n".join(wrong)


def test_no_import_points_up_the_layers():
    wrong = []
    for mod, found in imports().items():
        for target, _, line in found:
            if layer_of(target) < layer_of(mod):
                wrong.append(f"{modules()[mod].relative_to(PACKAGE_DIR.parent)}:{line}: {mod} "
                             f"({LAYERS[layer_of(mod)][0]}) imports {target} "
                             f"({LAYERS[layer_of(target)][0]})")
    assert not wrong, "imports that point up the layers:\n" + "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def test_find_cycle_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_no_import_cycles():
    graph = {mod: {t for t, _, _ in found if t != mod} for mod, found in imports().items()}
    # A package imports its own submodules to re-export them; a submodule that imports its
    # package back would close a cycle, so those edges stay in the graph.
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _package(module: str) -> str:
    """The subpackage a module belongs to (the module itself for a package)."""
    path = modules()[module]
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


@pytest.mark.parametrize("kind", ["names", "modules"])
def test_no_private_names_cross_modules(kind):
    """``_private`` names stay in their module; ``_private`` modules stay in their package."""
    wrong = []
    for mod, found in imports().items():
        for target, name, line in found:
            if kind == "names" and name and name.startswith("_") and not name.startswith("__"):
                wrong.append(f"{mod}:{line} imports {name} from {target}")
            private_module = any(p.startswith("_") and not p.startswith("__")
                                 for p in target.split("."))
            if kind == "modules" and private_module and not (
                    _package(mod) + ".").startswith(target.rpartition(".")[0] + "."):
                wrong.append(f"{mod}:{line} imports the private module {target}")
    assert not wrong, "\n".join(wrong)


def test_every_subpackage_says_what_it_holds():
    for mod, path in modules().items():
        if path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{mod} has no docstring"
        names = [t.id for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)]
        assert "__all__" in names, f"{mod} has no __all__"
