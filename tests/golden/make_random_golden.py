"""Capture PyTorch's random streams into ``random.npz`` for the flambeau RNG tests.

Run from the repository root with PyTorch installed::

    python tests/golden/make_random_golden.py

The case table and :func:`run_case` are shared with ``tests/test_random.py``:
``run_case(lib, case)`` calls the same public API on ``lib`` (``torch`` or
``flambeau``) and returns a NumPy array.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

SEEDS = (0, 1, 42, 2**40 + 7)
SIZES = (1, 7, 15, 16, 17, 1000, (3, 50))
FLOATS = ("float32", "float64")

#: Draws whose values go through a transcendental function (log, sin, cos, tan, exp).
TRANSCENDENTAL = {"randn", "normal_", "normal_ff", "normal_tt", "normal_tf", "normal_ft", "exponential_", "cauchy_",
                  "log_normal_", "randn_then_rand"}


def _sz(size: Any) -> tuple:
    return size if isinstance(size, tuple) else (size,)


def make_cases() -> list[tuple]:
    """(key, kind, seed, size, dtype, params) for every captured draw."""
    cases = []

    def add(kind: str, seed: int, size: Any, dtype: str, params: tuple = ()) -> None:
        key = f"{kind}|{seed}|{size}|{dtype}|{params}"
        cases.append((key, kind, seed, size, dtype, params))

    for s in SEEDS:
        for n in SIZES:
            for dt in FLOATS:
                add("rand", s, n, dt)
                add("randn", s, n, dt)
            add("randint", s, n, "int64", (0, 10))
    for s in (0, 42):
        for n in (1, 15, 16, 17, 1000):
            for dt in FLOATS:
                add("uniform_", s, n, dt, (-3.7, 2.3))
                add("normal_", s, n, dt, (1.5, 0.3))
                add("normal_ff", s, n, dt, (-2.0, 0.7))
                add("exponential_", s, n, dt, (2.5,))
                add("cauchy_", s, n, dt, (0.5, 0.3))
                add("log_normal_", s, n, dt, (0.5, 0.7))
                add("geometric_", s, n, dt, (0.3,))
                add("bernoulli_", s, n, dt, (0.3,))
                add("bernoulli_t", s, n, dt)
                add("random_", s, n, dt)
                add("random_ft", s, n, dt, (-5, 20))
                add("randn_then_rand", s, n, dt)
            add("rand", s, n, "float16")
            add("randn", s, n, "float16")
            add("uniform_", s, n, "float16", (-2.0, 3.0))
            add("normal_", s, n, "float16", (0.5, 2.5))
            add("cauchy_", s, n, "float16", (0.0, 1.0))  # float64 -> float32 -> float16, as c10::Half converts
            add("exponential_", s, n, "float16", (0.3,))
            add("random_", s, n, "float16")
            add("uniform_", s, n, "float32", (1e8, 1e8 + 8))  # values rounding up to `to` wrap to `from`
            for dt in ("int64", "int32", "int16", "uint8", "bool"):
                add("random_", s, n, dt)
            for lo, hi in ((-5, 3), (0, 2**33), (-2**40, 2**40), (0, 2**32)):
                add("randint", s, n, "int64", (lo, hi))
            add("randint", s, n, "int32", (-3, 7))
            add("randint", s, n, "int32", (3, 2**28 + 3))  # 64-bit draws from a range of 2**28 on
            add("randint", s, n, "int32", (3, 2**28 + 2))
            add("randint", s, n, "float32", (0, 2**24))
            add("randint", s, n, "float32", (-3, 7))
            add("randperm", s, n, "int64")
        for shape in ((17,), (4, 5)):
            for dt in FLOATS:
                add("normal_tt", s, shape, dt)
                add("normal_tf", s, shape, dt, (0.3,))
                add("normal_ft", s, shape, dt, (0.5,))
        for dt in FLOATS:
            for shape in ((20,), (4, 20)):
                for k, repl in ((1, True), (3, True), (50, True), (1, False), (3, False), (20, False)):
                    add("multinomial", s, shape, dt, (k, repl))
            add("poisson", s, (8,), dt)
    return cases


CASES = make_cases()


def _np(t: Any) -> np.ndarray:
    data = getattr(t, "_data", None)
    return np.array(data) if data is not None else t.numpy().copy()


def _probs(shape: tuple) -> np.ndarray:
    p = np.random.default_rng(7).random(shape)
    p[..., 3] = 0.0  # a category that must never be drawn
    return p


def run_case(lib: Any, case: tuple) -> np.ndarray:
    """Seed ``lib``'s default generator and draw ``case`` through its public API."""
    _key, kind, seed, size, dtype, params = case
    lib.manual_seed(seed)
    dt = getattr(lib, dtype)
    shape = _sz(size)
    if kind == "rand":
        return _np(lib.rand(size, dtype=dt) if isinstance(size, tuple) else lib.rand(size, dtype=dt))
    if kind == "randn":
        return _np(lib.randn(*shape, dtype=dt))
    if kind == "randn_then_rand":  # the scalar normal cache survives across calls and shows in the state
        a = _np(lib.randn(3, dtype=dt))
        b = _np(lib.randn(shape, dtype=dt))
        c = _np(lib.rand(2, dtype=dt))
        st = _np(lib.get_rng_state()).view(np.uint8)
        return np.concatenate([a.ravel().astype(np.float64), b.ravel().astype(np.float64), c.astype(np.float64),
                               st.astype(np.float64)])
    if kind == "randint":
        lo, hi = params
        return _np(lib.randint(lo, hi, shape, dtype=dt))
    if kind == "randperm":
        return _np(lib.randperm(int(np.prod(shape)), dtype=dt))
    if kind == "normal_ff":
        return _np(lib.normal(params[0], params[1], size=shape, dtype=dt))
    if kind in ("normal_tt", "normal_tf", "normal_ft"):
        mean = lib.tensor(np.linspace(-3, 3, int(np.prod(shape))).reshape(shape), dtype=dt)
        std = lib.tensor(np.linspace(0.1, 2, int(np.prod(shape))).reshape(shape), dtype=dt)
        if kind == "normal_tt":
            return _np(lib.normal(mean, std))
        if kind == "normal_tf":
            return _np(lib.normal(mean, params[0]))
        return _np(lib.normal(params[0], std))
    if kind == "bernoulli_t":
        p = lib.tensor(np.linspace(0, 1, int(np.prod(shape))).reshape(shape), dtype=dt)
        return _np(lib.bernoulli(p))
    if kind == "multinomial":
        k, repl = params
        probs = lib.tensor(_probs(shape), dtype=dt)
        return _np(lib.multinomial(probs, k, repl))
    if kind == "poisson":
        rates = lib.tensor([0.0, 0.5, 3.0, 9.99, 10.0, 25.0, 1000.0, 1e5], dtype=dt)
        return _np(lib.poisson(rates))
    t = lib.empty(shape, dtype=dt)
    name = "random_" if kind == "random_ft" else kind
    method = getattr(t, name, None)
    if method is None:  # a library that offers the in-place fills as functions taking the tensor first
        return _np(getattr(lib, name)(t, *params))
    return _np(method(*params))


def main() -> None:
    import torch

    out = {case[0]: run_case(torch, case) for case in CASES}
    out["__meta__"] = np.array([torch.__version__, torch.backends.cpu.get_cpu_capability()])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "random.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {len(CASES)} cases to {path}")


if __name__ == "__main__":
    main()
