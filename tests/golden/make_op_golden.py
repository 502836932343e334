"""Capture PyTorch's outputs and gradients for every op-table row into tests/golden/ops_<family>.npz.

Run from the repository root with torch installed:  python tests/golden/make_op_golden.py [family ...]
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402

from op_table import families  # noqa: E402
from op_table.runner import run  # noqa: E402


def main(selected: list) -> None:
    for family, rows in families().items():
        if selected and family not in selected:
            continue
        data = {}
        for row in rows:
            outs, grads, _ = run(row, torch, "float64")
            for k, o in enumerate(outs):
                data[f"{row.name}/out{k}"] = o
            for i, g in enumerate(grads):
                if g is not None:
                    data[f"{row.name}/grad{i}"] = g
        path = os.path.join(os.path.dirname(__file__), f"ops_{family}.npz")
        np.savez_compressed(path, **data)
        print(f"{path}: {len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv[1:])
