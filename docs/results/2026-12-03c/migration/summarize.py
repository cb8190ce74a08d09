"""Found / runs per law and migration interval, from the mig*_s*.json files here."""

import glob
import json
import re
from collections import defaultdict

found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
for f in sorted(glob.glob("mig*_s*.json")):
    tag = re.match(r"(mig2?_\w+?)_s\d+\.json", f).group(1)
    tag = {"mig_base": "1", "mig_m8": "old8"}.get(tag, tag.removeprefix("mig2_"))
    for r in json.load(open(f))["results"]:
        found[tag][r["problem"]].append("Y" if r["found"] else "n")
laws = ("I.10.7", "I.40.1", "I.29.16")
print("interval  " + "  ".join(f"{law:>8}" for law in laws) + "     total")
for tag in sorted(found, key=lambda t: (not t.isdigit(), int(t) if t.isdigit() else 0)):
    row = [found[tag][law] for law in laws]
    cells = [f"{r.count('Y')}/{len(r)}".rjust(8) for r in row]
    tot = sum(r.count("Y") for r in row), sum(len(r) for r in row)
    print(f"{tag:>8}  " + "  ".join(cells) + f"     {tot[0]}/{tot[1]}")
