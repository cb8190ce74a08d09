"""Totals and a per-law table of one Feynman run, with or without units: which branch of the
fit found each law (translation, walk, separation, dimensionless, plain), in what time.

    python docs/results/2026-12-07/summarize.py FOLDER > FOLDER/summary.md

The figures of eurisko without units and of Operon at commit 966b7b8/44b8df3 (same protocol)
come from docs/results/feynman-full, for comparison.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def records(folder: Path) -> list[dict]:
    with open(folder / "results.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> None:
    folder = Path(sys.argv[1])
    ours = records(folder)
    units = any(r.get("units") for r in ours)
    peer = {(r["problem"], r["method"], r["noise"]): r
            for r in records(ROOT / "docs" / "results" / "feynman-full")}
    by_noise: dict[float, list[dict]] = defaultdict(list)
    for r in ours:
        by_noise[r["noise"]].append(r)
    what = "eurisko with units" if units else "eurisko without units"
    print(f"| noise | laws | {what}: exact | exact laws by the branch that found them | "
          "eurisko without units, 2026-12-03 (feynman-full) | Operon (feynman-full) |")
    print("|---|---|---|---|---|---|")
    for noise, rs in sorted(by_noise.items()):
        n = len(rs)
        exact = sum(bool(r.get("exact")) for r in rs)
        found = Counter(r.get("extra", {}).get("found_by", "-") for r in rs if r.get("exact"))
        plain = [peer.get((r["problem"], "eurisko", noise)) for r in rs]
        operon = [peer.get((r["problem"], "pyoperon", noise)) for r in rs]

        def fmt(xs):
            return (f"{sum(bool(x and x.get('exact')) for x in xs)}/"
                    f"{sum(x is not None for x in xs)}")
        by = ", ".join(f"{k} {v}" for k, v in found.most_common())
        print(f"| {noise:g} | {n} | **{exact}/{n} ({100 * exact / n:.1f}%)** | {by} | "
              f"{fmt(plain)} | {fmt(operon)} |")
    print()
    print("| law | noise | exact | found by | seconds | of which dimensionless | "
          "dimensionless form | selected formula |")
    print("|---|---|---|---|---|---|---|---|")
    for r in sorted(ours, key=lambda r: (r["noise"], r["problem"])):
        e = r.get("extra", {})
        model = str(r.get("model", r.get("error", "")))
        model = model if len(model) <= 60 else model[:57] + "..."
        print(f"| {r['problem']} | {r['noise']:g} | {'yes' if r.get('exact') else 'no'} | "
              f"{e.get('found_by', '-')} | {r.get('seconds', float('nan')):.1f} | "
              f"{e.get('reduced_seconds', 0.0):.1f} | {'; '.join(e.get('reduced', [])) or '-'} | "
              f"`{model}` |")


if __name__ == "__main__":
    main()
