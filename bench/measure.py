"""One measured run of a command, as both benchmarks take it: wall time and the peak RSS of its whole
process tree (sampled from /proc: the jsii Node kernel under Python, the provider plugins under
terraform), and the largest single process's RSS (ru_maxrss)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_tree_rss_mb: float
    max_process_rss_mb: float
    returncode: int
    output: str  # stdout and stderr together


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
    except OSError:
        pass
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(_children(pid))
    return total


def measure(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], interval: float) -> Measured:
    """Runs `argv`, sampling its process tree's RSS every `interval` seconds."""
    peak = 0
    # Output to a file, not a pipe: a long output would fill the pipe while we wait for the process.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss_kb(process.pid))
                time.sleep(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode(errors="replace")
    # ru_maxrss of the waited child covers its largest waited-for descendant too.
    return Measured(wall, peak / 1024, usage.ru_maxrss / 1024, process.returncode, output)
