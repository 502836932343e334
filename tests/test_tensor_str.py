"""Tensor printing against PyTorch: a committed golden file, and live PyTorch when it is installed."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import pathlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent
if importlib.util.find_spec("flambeau") is None:
    sys.path.insert(0, str(ROOT.parent / "src"))
sys.path.insert(0, str(ROOT / "golden"))

import make_print_golden as golden

import flambeau
import flambeau._dtype as fdt
from flambeau import _tensor_str
from flambeau._tensor_str import get_printoptions, printoptions, set_printoptions, tensor_repr

HAS_TORCH = importlib.util.find_spec("torch") is not None
CASES = json.loads((ROOT / "golden" / "print_cases.json").read_text())["cases"]
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed")


@contextlib.contextmanager
def flambeau_settings(options: dict[str, Any], default_dtype: str = "float32") -> Iterator[None]:
    old = fdt.get_default_dtype()
    fdt.set_default_dtype(getattr(fdt, default_dtype))
    try:
        with printoptions(**options):
            yield
    finally:
        fdt.set_default_dtype(old)


def flambeau_repr(spec: dict[str, Any]) -> str:
    t = golden.make_tensor(flambeau, spec)
    with flambeau_settings(spec["options"], spec["default_dtype"]):
        text = repr(t)
        assert text == tensor_repr(t)
    return text


def as_flambeau(torch_repr: str) -> str:
    return torch_repr.replace("torch.", "flambeau.")


@pytest.fixture(autouse=True)
def _restore_options() -> Iterator[None]:
    before = get_printoptions()
    yield
    set_printoptions(**before)


@pytest.mark.parametrize("spec", CASES, ids=[c["id"] for c in CASES])
def test_golden(spec: dict[str, Any]) -> None:
    assert flambeau_repr(spec) == as_flambeau(spec["repr"])


@needs_torch
@pytest.mark.parametrize("spec", CASES, ids=[c["id"] for c in CASES])
def test_live_torch(spec: dict[str, Any]) -> None:
    """The golden file is current, and flambeau matches the installed PyTorch."""
    expected = golden.torch_repr(spec)
    assert expected == spec["repr"]
    assert flambeau_repr(spec) == as_flambeau(expected)


def test_golden_covers_enough() -> None:
    assert len(CASES) >= 30
    assert {c["dtype"] for c in CASES} >= {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}


# ---------------------------------------------------------------- options


def test_printoptions_defaults_and_profiles() -> None:
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}
    set_printoptions(profile="short", linewidth=60)
    assert get_printoptions() == {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 60, "sci_mode": None}
    set_printoptions(profile="full")
    assert get_printoptions()["threshold"] == float("inf")
    set_printoptions(profile="default")
    assert get_printoptions()["threshold"] == 1000


def test_printoptions_context_restores_and_sci_mode_resets() -> None:
    set_printoptions(sci_mode=True)
    with printoptions(precision=1):
        assert get_printoptions()["precision"] == 1
        assert get_printoptions()["sci_mode"] is None  # as in PyTorch, every call resets sci_mode
    assert get_printoptions()["precision"] == 4
    assert get_printoptions()["sci_mode"] is True
    assert _tensor_str.PRINT_OPTS.sci_mode is True


@needs_torch
def test_options_match_torch() -> None:
    import torch

    assert get_printoptions() == torch._tensor_str.get_printoptions()
    for kwargs in ({"profile": "short"}, {"profile": "full", "precision": 6}, {"edgeitems": 5, "sci_mode": False}):
        with printoptions(**kwargs), torch._tensor_str.printoptions(**kwargs):
            assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_parameter_repr() -> None:
    t = flambeau.tensor([1.0, 2.0], requires_grad=True)
    assert _tensor_str.parameter_repr(t) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_custom_prefix_indents() -> None:
    t = flambeau.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=flambeau.float64)
    assert tensor_repr(t, tensor_prefix="Foo(") == "Foo([[0., 1.],\n     [2., 3.]], dtype=flambeau.float64)"


# ---------------------------------------------------------------- scale


def test_summary_of_a_large_tensor_is_fast() -> None:
    """Summarising 10**7 elements works on the shown edges only."""
    data = np.arange(10**7, dtype=np.float32).reshape(1000, 10000) / 7
    t = flambeau.tensor(data)
    start = time.perf_counter()
    text = repr(t)
    assert time.perf_counter() - start < 1.0
    assert text.startswith("tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 1.4281e+03, 1.4283e+03,\n")
    assert text.count("\n") == 12  # 6 rows of 2 lines, and the "..." row
    if HAS_TORCH:
        import torch

        assert text == as_flambeau(repr(torch.from_numpy(data)))


# ---------------------------------------------------------------- random arrays against live PyTorch

if HAS_TORCH:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    FLOAT_DTYPES = st.sampled_from([np.float16, np.float32, np.float64])
    OTHER_DTYPES = st.sampled_from([np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_])
    SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)

    def _interesting_floats(dtype: Any) -> st.SearchStrategy:
        width = np.dtype(dtype).itemsize * 8
        exponent = st.sampled_from([1e-30, 1e-6, 1e-4, 0.01, 1.0, 1.0, 1.0, 100.0, 1e4, 1e8, 1e30])
        plain = st.builds(lambda m, e: m * e, st.floats(-10, 10, width=64), exponent)
        special = st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -2.0, 0.5])
        return st.one_of(plain, special, st.floats(width=width)).map(lambda v: _cast(v, dtype))

    def _cast(value: float, dtype: Any) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.asarray(value).astype(dtype)

    @st.composite
    def arrays(draw: Any) -> np.ndarray:
        if draw(st.booleans()):
            dtype = draw(FLOAT_DTYPES)
            return draw(hnp.arrays(dtype, SHAPES, elements=_interesting_floats(dtype)))
        return draw(hnp.arrays(draw(OTHER_DTYPES), SHAPES))

    OPTIONS = st.fixed_dictionaries({}, optional={
        "precision": st.integers(0, 8), "threshold": st.integers(1, 50), "edgeitems": st.integers(0, 4),
        "linewidth": st.integers(10, 120), "sci_mode": st.sampled_from([None, True, False]),
    })

    @given(arrays(), OPTIONS, st.booleans())
    @settings(max_examples=400, deadline=None)
    def test_random_arrays_match_torch(data: np.ndarray, options: dict[str, Any], requires_grad: bool) -> None:
        import torch

        requires_grad = requires_grad and data.dtype.kind == "f"
        t = torch.from_numpy(data.copy()).requires_grad_(requires_grad)
        with torch._tensor_str.printoptions(**options):
            expected = repr(t)
        with printoptions(**options):
            got = repr(flambeau.tensor(data, requires_grad=requires_grad))
        assert got == as_flambeau(expected)
