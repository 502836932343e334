"""flambeau vs PyTorch vs hand-written NumPy, side by side, alternating in the same run.

    python benchmarks/run.py                 # one thread for every library (the default)
    python benchmarks/run.py --threads default
    python benchmarks/run.py --only W1,W2a --repeats 9 --json benchmarks/results.json

Each workload is written once against the PyTorch API (run with ``lib`` = flambeau or torch) and
once as NumPy with hand-derived gradients: the floor for a NumPy-backed design. Every row prints a
correctness value per implementation, so each provably did the same math.
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

if "--threads" not in sys.argv or sys.argv[sys.argv.index("--threads") + 1] != "default":
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import flambeau  # noqa: E402

try:
    import torch  # noqa: E402
    if os.environ.get("OMP_NUM_THREADS") == "1":
        torch.set_num_threads(1)
except ImportError:
    torch = None

from workloads import WORKLOADS  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def time_runs(makers: dict, repeats: int, inner: int) -> dict:
    """Median per-iteration seconds for each implementation, the implementations alternating each repeat."""
    runs = {}
    for name, make in makers.items():
        try:
            runs[name] = make()
        except (NotImplementedError, AttributeError, ImportError) as e:
            runs[name] = e
    times = {name: [] for name, r in runs.items() if not isinstance(r, Exception)}
    for name in times:  # warm-up
        runs[name].step()
    for _ in range(repeats):
        for name in times:
            step = runs[name].step
            t0 = time.perf_counter()
            for _ in range(inner):
                step()
            times[name].append((time.perf_counter() - t0) / inner)
    out = {}
    for name, r in runs.items():
        if isinstance(r, Exception):
            out[name] = {"error": f"{type(r).__name__}: {r}"}
        else:
            ts = times[name]
            out[name] = {"median": statistics.median(ts), "min": min(ts), "max": max(ts), "times": ts, "check": r.check()}
    return out


def subprocess_metric(code: str) -> float:
    return float(subprocess.check_output([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "src")},
                                         text=True).strip().splitlines()[-1])


def import_times(repeats: int) -> dict:
    """Time of ``import X`` measured inside a fresh interpreter (median, min, max), alternating, with bytecode cached as
    in a normal install (a first run writes flambeau's cache; ``PYTHONDONTWRITEBYTECODE`` would recompile it on every
    import). Timing inside the child leaves out the interpreter's own start-up, the same for every library and the
    noisiest part of a wall-clock measurement; flambeau's time includes NumPy's import."""
    out = {"flambeau": [], "numpy": [], "torch": []}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.path.join(HERE, "..", "src")
    subprocess.run([sys.executable, "-c", "import flambeau"], check=True, env=env)
    for _ in range(repeats):
        for mod in out:
            if mod == "torch" and torch is None:
                continue
            code = f"import time; t0 = time.perf_counter(); import {mod}; print(time.perf_counter() - t0)"
            out[mod].append(float(subprocess.check_output([sys.executable, "-c", code], env=env, text=True)))
    return {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "times": v, "check": None} for k, v in out.items() if v}


def installed_size() -> tuple[int, int]:
    """flambeau's source bytes, and the bytes a default ``pip install`` leaves: the source and the bytecode it compiles for
    this interpreter (a ``.pyc`` is a 16-byte header and the marshalled code object)."""
    root = os.path.dirname(flambeau.__file__)
    source = compiled = 0
    for d, _, fs in os.walk(root):
        for f in fs:
            if f.endswith(".py"):
                path = os.path.join(d, f)
                with open(path, "rb") as fh:
                    text = fh.read()
                source += len(text)
                compiled += 16 + len(marshal.dumps(compile(text, path, "exec")))
    return source, source + compiled


def fmt_t(r: dict) -> str:
    if "error" in r:
        return "n/a"
    scale, unit = (1e6, "µs") if r["median"] < 1e-3 else (1e3, "ms")
    return f"{r['median'] * scale:.1f} {unit} ({r['min'] * scale:.1f}–{r['max'] * scale:.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1", help="'1' (default) or 'default' (each library's own threading)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated workload ids")
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--quick", action="store_true", help="fewer repeats and iterations (a smoke run)")
    ap.add_argument("--markdown", default="", help="also write the table as Markdown to this path (e.g. benchmarks/RESULTS.md)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    repeats = 3 if args.quick else max(5, args.repeats)
    rows = []
    for w in WORKLOADS:
        if only and w.id not in only:
            continue
        makers = {"flambeau": lambda w=w: w.make(flambeau), "numpy": lambda w=w: w.numpy()}
        if torch is not None:
            makers["torch"] = lambda w=w: w.make(torch)
        res = time_runs(makers, repeats, max(1, w.inner // (10 if args.quick else 1)))
        rows.append({"id": w.id, "name": w.name, "target": w.target, "results": res})
        print_row(rows[-1])
    if not only or "W6" in only:
        it = import_times(3 if args.quick else 11)
        source, installed = installed_size()
        rows.append({"id": "W6", "name": "import time; installed size", "target": "≤ numpy import + 50 ms; ≤ 1 MB",
                     "results": it, "size_bytes": source, "installed_bytes": installed})
        print(f"W6  import (median, inside the interpreter): flambeau {it['flambeau']['median'] * 1e3:.0f} ms (NumPy's included), "
              f"numpy {it['numpy']['median'] * 1e3:.0f} ms"
              + (f", torch {it['torch']['median'] * 1e3:.0f} ms" if "torch" in it else "")
              + f"; flambeau source {source / 1e3:.0f} kB, with bytecode {installed / 1e3:.0f} kB")
    for mid, code_name in (("M1", "m1"), ("M2", "m2")):
        if only and mid not in only:
            continue
        res = {}
        for lib in ("flambeau", "torch"):
            if lib == "torch" and torch is None:
                continue
            try:
                code = f"import sys; sys.path.insert(0, {HERE!r}); import memory; print(memory.{code_name}({lib!r}, {args.quick}))"
                res[lib] = subprocess_metric(code)
            except subprocess.CalledProcessError as e:
                res[lib] = f"error: {e}"
        rows.append({"id": mid, "name": "peak RSS, W3 x 10 epochs (MB)" if mid == "M1" else "RSS growth over 20,000 W2a iterations (MB)",
                     "target": "≤ PyTorch's" if mid == "M1" else "< 5 MB", "results": res})
        print(f"{mid}  {rows[-1]['name']}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in res.items()))
    meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}"
            + (f", PyTorch {torch.__version__}" if torch else ""), "threads": args.threads, "date": time.strftime("%Y-%m-%d"),
            "rss_mb_at_end": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1, default=str)
    print(f"\n{meta['machine']}; threads: {args.threads}; JSON: {args.json}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(meta, rows))


def ratio(a: dict, b: dict) -> str:
    """``a / b``: the ratio of the medians, then the median of the per-repeat ratios. The implementations run one after the
    other within each repeat, so a repeat's ratio compares neighbours in time: the paired ratio leaves out most of what a
    busy shared machine does to parts of a run."""
    if "median" not in a or "median" not in b:
        return "n/a"
    paired = statistics.median(x / y for x, y in zip(a["times"], b["times"]))
    return f"{a['median'] / b['median']:.2f}× (paired {paired:.2f}×)"


def _cell(r: dict) -> str:
    return "n/a" if not isinstance(r, dict) or "median" not in r else fmt_t(r)


def markdown(meta: dict, rows: list) -> str:
    """The results as a Markdown table (what benchmarks/RESULTS.md holds)."""
    lines = [f"# Benchmark results ({meta['date']})", "", f"Machine: {meta['machine']}. Threads: {meta['threads']}. "
             "Median per iteration (min–max) over the repeats; implementations alternate within each repeat. "
             "Ratios: of the medians (paired: the median of the per-repeat ratios).", "",
             "| id | workload | flambeau | PyTorch | NumPy floor | fl / PyTorch | fl / NumPy | target | check (fl / torch / numpy) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        r = row["results"]
        if row["id"] in ("M1", "M2"):
            vals = " / ".join(f"{k} {v:.1f} MB" if isinstance(v, float) else f"{k} {v}" for k, v in r.items())
            lines.append(f"| {row['id']} | {row['name']} | {vals} | | | | | {row['target']} | |")
            continue
        fl, th, npf = r.get("flambeau", {}), r.get("torch", {}), r.get("numpy", {})
        rt, rn = ratio(fl, th), ratio(fl, npf)
        chk = " / ".join(f"{x.get('check'):.6g}" if isinstance(x.get("check"), float) else "–" for x in (fl, th, npf))
        name = row["name"] + (f" (flambeau source: {row['size_bytes'] / 1e3:.0f} kB; with the bytecode pip compiles: "
                              f"{row['installed_bytes'] / 1e3:.0f} kB)" if "size_bytes" in row else "")
        lines.append(f"| {row['id']} | {name} | {_cell(fl)} | {_cell(th)} | {_cell(npf)} | {rt} | {rn} | {row['target']} | {chk} |")
    return "\n".join(lines) + "\n"


def print_row(row: dict) -> None:
    r = row["results"]
    fl, th, npf = r.get("flambeau", {}), r.get("torch", {}), r.get("numpy", {})
    ratio_t, ratio_n = ratio(fl, th), ratio(fl, npf)
    checks = " / ".join(f"{k}={v['check']:.6g}" if isinstance(v.get("check"), float) else f"{k}={v.get('error', v.get('check'))}"
                        for k, v in r.items())
    print(f"{row['id']:4} {row['name']}\n     flambeau {fmt_t(fl)} | torch {fmt_t(th)} | numpy {fmt_t(npf)} | "
          f"fl/torch {ratio_t} | fl/numpy {ratio_n} | target {row['target']}\n     check: {checks}", flush=True)


if __name__ == "__main__":
    main()
