"""Running a row under a library: forward, then backward of a fixed random weighting of the outputs."""

from __future__ import annotations

import zlib

import numpy as np

from . import Row, tensors_for


def outputs(row: Row, lib, dtype: str, arrays: list | None = None, seed: int = 0, shapes: tuple | None = None):
    ins = tensors_for(row, lib, dtype, seed=seed, shapes=shapes, arrays=arrays)
    out = row.fn(lib, *ins)
    outs = tuple(out) if isinstance(out, tuple | list) else (out,)
    return ins, outs


def weights(row: Row, outs: tuple) -> list:
    """Fixed upstream gradients, one per output (so gradients are not all-ones sums)."""
    rng = np.random.RandomState(zlib.crc32(row.name.encode()) % 2**32)
    return [rng.standard_normal(tuple(o.shape)) for o in outs]


def to_np(t) -> np.ndarray:
    return np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def run(row: Row, lib, dtype: str, arrays: list | None = None, seed: int = 0, shapes: tuple | None = None) -> tuple:
    """``(outputs, grads)`` as NumPy arrays; grads are those of the inputs that require grad (None if unused)."""
    ins, outs = outputs(row, lib, dtype, arrays, seed, shapes)
    grads = []
    if row.grad:
        diff = [x for x in ins if hasattr(x, "requires_grad") and x.requires_grad]
        used = [(o, w) for o, w in zip(outs, weights(row, outs)) if getattr(o, "requires_grad", False)]
        if diff and used:
            loss = sum((o * lib.tensor(w, dtype=o.dtype)).sum() for o, w in used)
            loss.backward()
            grads = [None if x.grad is None else to_np(x.grad) for x in diff]
    return [to_np(o) for o in outs], grads, outs
