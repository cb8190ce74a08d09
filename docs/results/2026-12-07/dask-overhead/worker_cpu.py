"""Wall time, thread CPU, process CPU, minor page faults and system time of the search's epochs
(GroupHost.handle) in this process and in a Dask worker (1 worker, 10 s each). With an argument,
the worker starts without MALLOC_TRIM_THRESHOLD_ (Dask's nannies set it to 65536 by default).

    PYTHONPATH=src python docs/results/2026-12-07/dask-overhead/worker_cpu.py          # with it
    PYTHONPATH=src python docs/results/2026-12-07/dask-overhead/worker_cpu.py unset    # without
"""
import sys, numpy as np, distributed, time
sys.path.insert(0, "benchmarks")
from scaling import _data, _measure
from eurisko.search.dask_executor import DaskExecutor
from eurisko.search.executors import InProcess
ACC = {}
def patch():
    import time
    from eurisko.search import group
    orig = group.GroupHost.handle
    if getattr(orig, "_patched", False): return
    acc = group.__dict__.setdefault("ACC", {"wall": 0.0, "thread": 0.0, "proc": 0.0, "n": 0, "evals": 0})
    def handle(self, msg):
        w, t, p = time.perf_counter(), time.thread_time(), time.process_time()
        r = orig(self, msg)
        acc["wall"] += time.perf_counter() - w; acc["thread"] += time.thread_time() - t; acc["proc"] += time.process_time() - p
        acc["n"] += 1; acc["evals"] += r.get("n_evals", 0)
        import resource, os; ru = resource.getrusage(resource.RUSAGE_THREAD); acc["minflt"] = ru.ru_minflt; acc["utime"]=ru.ru_utime; acc["stime"]=ru.ru_stime; acc["env"] = os.environ.get("MALLOC_TRIM_THRESHOLD_")
        return r
    handle._patched = True
    group.GroupHost.handle = handle
def read():
    from eurisko.search import group
    a = dict(group.ACC); group.ACC.update(wall=0.0, thread=0.0, proc=0.0, n=0, evals=0); return a
if __name__ == "__main__":
    data = _data(1000, 0)
    patch()
    r = _measure(lambda: InProcess(), 1, data, 10, 0); print("inproc", round(r["evals_per_s"]), read(), flush=True)
    import dask
    if len(sys.argv) > 1: dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster, set_as_default=False); client.wait_for_workers(1)
    client.run(patch)
    r = _measure(lambda: DaskExecutor(client), 1, data, 10, 0); print("dask", round(r["evals_per_s"]), client.run(read))
    client.close(); cluster.close()
