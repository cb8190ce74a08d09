"""The ``eurisko`` command line: one module per command (``fit``, ``demo``, ``ode``,
``constant``, ``sequence``, ``bench``), the pieces they share in ``_common``, and the parser and
`main` in ``main``.

    eurisko fit data.csv --target y --time-limit 60 --out runs/first
    eurisko --help

Importing this package loads no pandas, SymPy, numba, matplotlib or scikit-learn: a command
imports them when it runs, so that ``eurisko --help`` starts quickly.
"""

# The name ``eurisko.cli.main`` is the function (the ``eurisko`` script entry point is
# ``eurisko.cli:main``); the module of that name is ``sys.modules["eurisko.cli.main"]``.
from eurisko.cli.main import build_parser, main

__all__ = ["main", "build_parser"]
