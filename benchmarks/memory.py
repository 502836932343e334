"""Memory measurements, each run in a fresh process (``benchmarks/run.py`` calls them)."""

from __future__ import annotations

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def _peak_mb() -> float:
    """Peak RSS of this process's own memory map (``ru_maxrss`` would start from the forking parent's peak)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _lib(name: str):
    lib = importlib.import_module(name)
    if name == "torch":
        lib.set_num_threads(1)
    return lib


def m1(name: str, quick: bool = False) -> float:
    """Peak RSS (MB) of training the W3 MLP for 10 epochs."""
    from workloads import w3
    run = w3(_lib(name))
    for _ in range(2 if quick else 10):
        run.step()
    return _peak_mb()


def m2(name: str, quick: bool = False) -> float:
    """RSS growth (MB) between iteration 1,000 and iteration 20,000 of W2a: graphs must be freed."""
    from workloads import w2a
    run = w2a(_lib(name))
    total = 4000 if quick else 20000
    for _ in range(1000):
        run.step()
    start = _rss_mb()
    for _ in range(total - 1000):
        run.step()
    return _rss_mb() - start
