"""Seconds from starting `eurisko demo` to its first `progress:` line, and to its end (3 runs)."""

import subprocess
import time

for _ in range(3):
    t0 = time.monotonic()
    first = None
    p = subprocess.Popen(["eurisko", "demo", "--out", "/tmp/demo_out"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        if first is None and "progress" in line:
            first = time.monotonic() - t0
    rc = p.wait()
    print(f"rc {rc} first progress {first:.2f} s, total {time.monotonic() - t0:.2f} s")
