"""Benchmark suites by name: ``feynman``, ``strogatz``, ``classic`` and subsets of them.

A suite spec is ``NAME`` or ``NAME:SELECTION`` where SELECTION is a comma-separated list of
families or problem names (case-insensitive): ``classic:nguyen``, ``classic:nguyen,keijzer``,
``strogatz:lv``, ``feynman:I.6.2a,I.18.4``, ``feynman:III``. A classic family name alone is a
shortcut: ``nguyen`` is ``classic:nguyen``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from eurisko.bench.problem import Problem

SUITES: tuple[str, ...] = ("feynman", "strogatz", "classic")


@dataclass(frozen=True)
class Suite:
    """A named, ordered list of problems; index by position or by problem name."""

    name: str
    problems: tuple[Problem, ...]

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def __getitem__(self, key: int | str) -> Problem:
        if isinstance(key, str):
            for p in self.problems:
                if p.name.lower() == key.lower():
                    return p
            raise KeyError(f"no problem {key!r} in suite {self.name}")
        return self.problems[key]

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.problems]

    def select(self, names: Sequence[str]) -> Suite:
        """The named problems (or families), in the order given."""
        return Suite(f"{self.name}:{','.join(names)}", tuple(_select(self, names)))


def _all_problems(name: str) -> list[Problem]:
    if name == "feynman":
        from eurisko.bench.feynman import load_problems

        return list(load_problems())
    if name == "strogatz":
        from eurisko.bench.strogatz import load_strogatz

        return list(load_strogatz())
    if name == "classic":
        from eurisko.bench.classic import load_classic

        return list(load_classic())
    raise ValueError(f"unknown suite {name!r}")


def _select(suite: Suite, names: Sequence[str]) -> list[Problem]:
    chosen: list[Problem] = []
    for raw in names:
        key = raw.strip()
        if not key:
            continue
        low = key.lower()
        hits = [p for p in suite.problems if p.name.lower() == low]
        if not hits and suite.name.startswith("feynman"):  # I_6_2a, feynman_I_6_2a
            from eurisko.bench.feynman import problem_name

            alt = problem_name(key.removesuffix(".yaml")).lower()
            hits = [p for p in suite.problems if p.name.lower() == alt]
        if not hits:
            hits = [p for p in suite.problems if p.family.lower() == low]
        if not hits:
            families = sorted({p.family for p in suite.problems})
            raise ValueError(f"suite {suite.name} has no problem or family {key!r}; families: "
                             f"{', '.join(families)}; problems: e.g. "
                             f"{', '.join(suite.names[:5])}")
        chosen.extend(p for p in hits if p not in chosen)
    if not chosen:
        raise ValueError(f"the selection {','.join(names)!r} chose no problem of {suite.name}")
    return chosen


def load_suite(spec: str, problems: Sequence[str] | None = None) -> Suite:
    """The problems of a suite spec (see the module doc), optionally only ``problems``.

    >>> load_suite("classic:nguyen").names[:3]
    ['Nguyen-1', 'Nguyen-2', 'Nguyen-3']
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"suite must be a name such as {', '.join(SUITES)} or "
                         f"'classic:nguyen', got {spec!r}")
    name, _, selection = spec.strip().partition(":")
    name = name.lower()
    if name not in SUITES:
        from eurisko.bench.classic import classic_families

        if name in classic_families() and not selection:
            name, selection = "classic", name
        else:
            raise ValueError(f"unknown suite {spec!r}; choose one of {', '.join(SUITES)}, "
                             "'SUITE:FAMILY' or a classic family "
                             f"({', '.join(classic_families())})")
    suite = Suite(name, tuple(_all_problems(name)))
    if selection:
        suite = Suite(f"{name}:{selection}", tuple(_select(suite, selection.split(","))))
    if problems:
        names = [n for chunk in problems for n in chunk.replace(",", " ").split()]
        suite = Suite(f"{suite.name}", tuple(_select(suite, names)))
    return suite
