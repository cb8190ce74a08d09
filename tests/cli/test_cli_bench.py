"""``eurisko bench``: a benchmark killed mid-run resumes where it stopped, and ``bench report``."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from eurisko.bench import read_results


def test_killed_mid_benchmark_resumes_where_it_stopped(tmp_path: Path, start_cli,
                                                        main_cli) -> None:
    """Two worker processes; the benchmark is killed (-9) once a run is saved, then the same
    command finishes only the runs that were not saved."""
    out = tmp_path / "b"
    args = ("bench", "strogatz", "lv1", "lv2", "vdp1", "--time-limit", "1", "--jobs", "2",
            "--no-progress", "--out", str(out))
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    proc = start_cli(*args, **pipes)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if results.exists() and results.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up
    proc.communicate()
    first = read_results(out)
    assert 1 <= len(first) < 3, "the kill should land while a run is going"
    proc = start_cli(*args, **pipes)
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    assert f"{len(first)} runs were already in" in stderr
    records = read_results(out)
    assert sorted(r["problem"] for r in records) == ["lv1", "lv2", "vdp1"]
    assert all(r in records for r in first)  # the finished runs were kept, not redone
    assert stdout.count("seed=0") == 3 - len(first)
    assert (out / "report.html").exists() and "report:" in stdout

    code, report_out, _ = main_cli("bench", "report", str(out), "--out", str(tmp_path / "r"))
    assert code == 0
    assert "report:" in report_out
    assert (tmp_path / "r" / "r2_size.png").exists()
