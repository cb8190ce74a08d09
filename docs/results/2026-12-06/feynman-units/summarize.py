"""Per-law table and totals of a Feynman run with units: which search found each law, in what time.

    python docs/results/2026-12-06/feynman-units/summarize.py [FOLDER] > summary.md

Operon's figures beside ours come from docs/results/feynman-full (same protocol, no units).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[3]


def records(folder: Path) -> list[dict]:
    with open(folder / "results.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    ours = records(folder)
    peers = records(ROOT / "docs" / "results" / "feynman-full")
    peer = {(r["problem"], r["method"], r["noise"]): r for r in peers}
    by_noise: dict[float, list[dict]] = defaultdict(list)
    for r in ours:
        by_noise[r["noise"]].append(r)
    print("| noise | laws | eurisko with units: exact | found by the dimensionless search | "
          "eurisko without units (feynman-full) | Operon (feynman-full) |")
    print("|---|---|---|---|---|---|")
    for noise, rs in sorted(by_noise.items()):
        n = len(rs)
        exact = sum(bool(r.get("exact")) for r in rs)
        reduced = sum(bool(r.get("exact")) and r.get("extra", {}).get("found_by")
                      == "dimensionless" for r in rs)
        plain = [peer.get((r["problem"], "eurisko", noise)) for r in rs]
        operon = [peer.get((r["problem"], "pyoperon", noise)) for r in rs]
        fmt = (lambda xs: f"{sum(bool(x and x.get('exact')) for x in xs)}/"
               f"{sum(x is not None for x in xs)}")
        print(f"| {noise:g} | {n} | **{exact}/{n} ({100 * exact / n:.1f}%)** | {reduced} | "
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
