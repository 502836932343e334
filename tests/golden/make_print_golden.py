"""Capture PyTorch's tensor reprs for ``tests/test_tensor_str.py``.

Run ``python tests/golden/make_print_golden.py`` with PyTorch installed; it
rewrites ``print_cases.json`` next to this file. Each case holds the tensor's
values (exactly representable in its dtype, or an ``arange`` recipe made of
correctly rounded operations only), its shape and dtype, autograd flags, the
print options and default dtype in force, and ``repr(tensor)`` from PyTorch.
"""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
from collections.abc import Iterator
from typing import Any

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "print_cases.json"
inf, nan = math.inf, math.nan

CASES: list[dict[str, Any]] = []


def case(name: str, values: Any = None, dtype: str = "float32", *, arange: tuple | None = None, scale: float = 1.0,
         offset: float = 0.0, shape: tuple | None = None, **extra: Any) -> None:
    """Register a case; ``values`` are rounded to ``dtype`` once, here, so the stored values are exact."""
    spec: dict[str, Any] = {"id": name, "dtype": dtype}
    if arange is not None:
        spec.update(arange=list(arange), scale=scale, offset=offset)
        arr = build_array(spec)
    else:
        arr = np.asarray(values, dtype=np.float64 if dtype.startswith("float") else None).astype(dtype)
        spec["values"] = arr.astype(np.float64).ravel().tolist() if dtype.startswith("float") else arr.ravel().tolist()
    spec["shape"] = list(shape if shape is not None else arr.shape)
    spec.update({"requires_grad": False, "grad_fn": None, "options": {}, "default_dtype": "float32"}, **extra)
    CASES.append(spec)


def build_array(spec: dict[str, Any]) -> np.ndarray:
    """The NumPy array a case describes (shared with the test)."""
    if "arange" in spec:
        arr = np.arange(*spec["arange"], dtype=np.float64) * spec["scale"] + spec["offset"]
    else:
        arr = np.array(spec["values"], dtype=np.float64 if spec["dtype"].startswith("float") else None)
    return arr.astype(spec["dtype"]).reshape(spec.get("shape", arr.shape))


# 0-d
case("scalar_float", 3.5)
case("scalar_integral_float", 2.0)
case("scalar_int", 7, "int64")
case("scalar_negzero", -0.0)
case("scalar_bool", True, "bool")
case("scalar_nan", nan)
case("scalar_tiny", 1.5e-7)
case("scalar_int8", -5, "int8")
# 1-D floats
case("vec_short", [1.5, -2.25, 3.0])
case("vec_integral", [1.0, 2.0, -3.0])
case("vec_negzero", [-0.0, 0.0, 1.0])
case("vec_negzero_frac", [-0.0, 0.5])
case("vec_int_mode_nonfinite", [1.0, inf, -inf, nan])
case("vec_nonfinite", [1.5, inf, nan, -inf])
case("vec_all_zero", [0.0, 0.0, 0.0])
case("vec_all_nonfinite", [nan, inf, -inf])
case("vec_small", [1e-5, 1.0])
case("vec_huge", [1e10])
case("vec_ratio", [1.0, 2000.5])
case("vec_ratio_int", [1.0, 10000.0])
case("vec_int_mode_wide", [123456.0, 1000.0, -7.0])
case("vec_big_int_mode", [1e8, 3.0, 5.0])
case("vec_over_1e8", [2e8, 3e8])
case("vec_exp3", [1e-120, 1e100, -3.5], "float64")
case("vec_neg_tiny", [-1.234e-5, 5.0])
case("vec_round_up", [9.99996, 1.5])
case("vec_float32_thirds", [0.1, 1 / 3, 2 / 3])
case("vec_float16", [0.1, 1000.5, -3.3], "float16")
case("vec_float16_int", [1.0, 2048.0, -4.0], "float16")
case("vec_float64", [0.1, 0.2], "float64")
case("vec_wrap", arange=(30,), scale=0.37)
case("vec_wrap_sci", arange=(1, 40), scale=1234.5678, offset=0.001)
case("vec_wrap_ints", arange=(-50, 50), scale=12345, dtype="int64")
case("vec_1000", arange=(1000,), scale=0.5)
case("vec_1001", arange=(1001,), scale=0.5)
case("vec_1001_int", arange=(-500, 501), dtype="int32")
case("vec_1001_sci_edges", arange=(1001,), scale=1e-3, offset=1e-6)
# integers and bools
case("ints_int8", [-128, 0, 127], "int8")
case("ints_int16", [-300, 2, 30000], "int16")
case("ints_int32", [1, -2, 3], "int32")
case("ints_int64", [10, -200, 3000], "int64")
case("ints_uint8", [0, 17, 255], "uint8")
case("bools", [True, False, True], "bool")
case("bools_all_true", [True, True], "bool")
case("bools_2d", [[True, False], [False, True]], "bool")
# 2-D and up
case("mat_3x4", arange=(12,), scale=0.25, offset=-1.0, shape=(3, 4))
case("mat_ints", [[1, 20], [300, -4]], "int64")
case("mat_wrap_rows", arange=(2 * 25,), scale=1.1, shape=(2, 25))
case("mat_summary_both", arange=(40 * 40,), scale=0.01, shape=(40, 40))
case("mat_summary_rows", arange=(500 * 3,), scale=1.0, shape=(500, 3))
case("mat_summary_cols", arange=(2 * 800,), scale=-0.5, shape=(2, 800), dtype="float64")
case("mat_summary_int", arange=(1100,), shape=(11, 100), dtype="int16")
case("t3", arange=(24,), scale=0.5, shape=(2, 3, 4))
case("t4", arange=(24,), scale=1.0, shape=(2, 2, 2, 3), dtype="int64")
case("t3_summary", arange=(12 ** 3,), scale=0.001, shape=(12, 12, 12))
case("t4_summary", arange=(8 * 5 * 5 * 7,), scale=1.0, shape=(8, 5, 5, 7), dtype="uint8")
case("mat_one_col", [[1.5], [2.5]])
# empty
case("empty", [])
case("empty_int", [], "int64")
case("empty_bool", [], "bool")
case("empty_float64", [], "float64")
case("empty_0x3", np.zeros((0, 3)))
case("empty_2x0x3_int32", np.zeros((2, 0, 3)), "int32")
case("empty_requires_grad", [], requires_grad=True)
# autograd suffixes
case("grad_vec", [1.0, 2.0], requires_grad=True)
case("grad_fn_add", [1.5, 2.5], grad_fn="AddBackward0")
case("grad_fn_mat", [[1.0, 2.0], [3.0, 4.0]], "float64", grad_fn="MulBackward0")
case("grad_scalar_float64", 0.5, "float64", requires_grad=True)
for n in range(4, 10):
    case(f"grad_wrap_float64_{n}", arange=(n,), scale=1.125, offset=0.5, dtype="float64", requires_grad=True)
for n in range(6, 12):
    case(f"grad_fn_wrap_float16_{n}", arange=(n,), scale=0.5, dtype="float16", grad_fn="MulBackward0")
case("grad_wrap_2d", arange=(4 * 7,), scale=1.5, shape=(4, 7), dtype="float64", requires_grad=True)
# print options
case("opt_precision2", [1.12345, 2.0], options={"precision": 2})
case("opt_precision0", [1.5, 2.5, 3.25], options={"precision": 0})
case("opt_precision0_sci", [1e-5, 3.0], options={"precision": 0})
case("opt_threshold5", arange=(10,), dtype="int64", options={"threshold": 5})
case("opt_edgeitems1", arange=(2000,), scale=0.5, options={"edgeitems": 1})
case("opt_edgeitems0_vec", arange=(2000,), scale=0.5, options={"edgeitems": 0})
case("opt_edgeitems0_small", [1.0, 2.5], options={"edgeitems": 0})
case("opt_edgeitems0_mat", arange=(40 * 40,), shape=(40, 40), options={"edgeitems": 0})
case("opt_linewidth40", arange=(20,), scale=0.75, options={"linewidth": 40})
case("opt_linewidth40_grad", arange=(6,), scale=0.75, dtype="float64", requires_grad=True, options={"linewidth": 40})
case("opt_profile_short", arange=(12,), scale=1 / 3, shape=(3, 4), options={"profile": "short"})
case("opt_profile_short_summary", arange=(2000,), scale=0.5, options={"profile": "short"})
case("opt_profile_full", arange=(1001,), scale=0.5, options={"profile": "full"})
case("opt_sci_true", [1.5, 2.0], options={"sci_mode": True})
case("opt_sci_true_int", [1.0, 2.0], options={"sci_mode": True})
case("opt_sci_false", [1e-5, 1.0, 1e10], options={"sci_mode": False})
case("opt_sci_true_zeros", [0.0, 0.0], options={"sci_mode": True})
# default dtype float64
case("dd64_float32", [1.5, 2.0], default_dtype="float64")
case("dd64_float64", [1.5, 2.0], "float64", default_dtype="float64")
case("dd64_empty_float64", [], "float64", default_dtype="float64")
case("dd64_empty_float32", [], default_dtype="float64")


@contextlib.contextmanager
def torch_settings(spec: dict[str, Any]) -> Iterator[None]:
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, spec["default_dtype"]))
    try:
        with torch._tensor_str.printoptions(**spec["options"]):
            yield
    finally:
        torch.set_default_dtype(old)


def make_tensor(lib: Any, spec: dict[str, Any]):
    """The tensor a case describes, built by ``lib`` (``torch`` or ``flambeau``) with ``lib.tensor(ndarray)``.

    ``grad_fn`` comes from a value-preserving op on a leaf that requires grad.
    """
    t = lib.tensor(build_array(spec))
    if spec["grad_fn"] or spec["requires_grad"]:
        t.requires_grad_()
    if spec["grad_fn"] == "AddBackward0":
        t = t + 0
    elif spec["grad_fn"] == "MulBackward0":
        t = t * 1
    elif spec["grad_fn"] is not None:
        raise ValueError(spec["grad_fn"])
    return t


def torch_repr(spec: dict[str, Any]) -> str:
    import torch

    t = make_tensor(torch, spec)
    with torch_settings(spec):
        return repr(t)


def main() -> None:
    import torch

    out = {"torch_version": torch.__version__, "cases": [dict(spec, repr=torch_repr(spec)) for spec in CASES]}
    GOLDEN.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(CASES)} cases to {GOLDEN}")


if __name__ == "__main__":
    main()
