"""CPU of the driver's process and of each worker while the scaling benchmark's search runs
on 2 local processes and on a Dask LocalCluster of 2 workers (N seconds each).

    PYTHONPATH=src python docs/results/2026-12-07/dask-overhead/driver_cpu.py 15
"""
import sys
import time

import distributed

sys.path.insert(0, "benchmarks")
from scaling import _data, _measure  # noqa: E402

from eurisko.search.dask_executor import DaskExecutor, local_cluster  # noqa: E402
from eurisko.search.executors import LocalProcesses  # noqa: E402


def cpu():
    import time
    return time.process_time()


if __name__ == "__main__":
    data = _data(1000, 0)
    secs = float(sys.argv[1])
    c0 = time.process_time()
    r = _measure(lambda: LocalProcesses(2), 2, data, secs, 0)
    print(f"local@2 {r['evals_per_s']:.0f} evals/s, wall {r['wall']:.1f} s, "
          f"driver cpu {time.process_time() - c0:.2f} s", flush=True)
    cl = local_cluster(2)
    client = distributed.Client(cl, set_as_default=False)
    client.wait_for_workers(2)
    for _ in range(2):
        w0, c0, t0 = client.run(cpu), time.process_time(), time.perf_counter()
        r = _measure(lambda: DaskExecutor(client), 2, data, secs, 0)
        w1, wall = client.run(cpu), time.perf_counter() - t0
        workers = ", ".join(f"{w1[k] - w0[k]:.2f} s ({(w1[k] - w0[k]) / wall:.0%})" for k in w0)
        print(f"dask@2 {r['evals_per_s']:.0f} evals/s, wall {wall:.1f} s (warm-up included), "
              f"driver cpu {time.process_time() - c0:.2f} s, workers cpu {workers}", flush=True)
    client.close()
    cl.close()
