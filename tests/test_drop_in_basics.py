"""Everyday PyTorch idioms that have nothing to do with gradients: ``x.cpu()``, ``torch.cuda.is_available()``,
``x.new_zeros(...)``, ``x.type_as(y)``, ``torch.is_floating_point``, ``torch.detach``. Each is compared with PyTorch."""

import importlib
import os

import numpy as np
import pytest

import flambeau as fl

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")


def same(ours, theirs):
    """Same printed form (dtype and values) and same requires_grad."""
    assert repr(ours).replace("flambeau", "torch") == repr(theirs)
    assert ours.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("make", [
    lambda lib, x: x.new_zeros(2, 3),
    lambda lib, x: x.new_zeros((2,)),
    lambda lib, x: x.new_ones((2, 2), dtype=lib.int64),
    lambda lib, x: x.new_full((3,), 7),
    lambda lib, x: x.new_full([2], 0.5, requires_grad=True),
    lambda lib, x: x.new_tensor([1, 2, 3]),
    lambda lib, x: x.new_tensor([[1.5]], dtype=lib.float32, requires_grad=True),
    lambda lib, x: x.new_empty(0),
    lambda lib, x: lib.ones(2, dtype=lib.int32).type_as(x),
    lambda lib, x: x.type_as(x),
    lambda lib, x: lib.detach(x * 2),
    lambda lib, x: x.cpu(),
], ids=["new_zeros", "new_zeros_tuple", "new_ones_dtype", "new_full", "new_full_grad", "new_tensor", "new_tensor_dtype",
        "new_empty_0", "type_as", "type_as_same", "detach", "cpu"])
def test_tensor_idioms_match_torch(make):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        return make(lib, x)
    same(run(fl), run(torch))


def test_cpu_returns_the_tensor_itself_and_device_queries():
    for lib in (fl, torch):
        x = lib.ones(2)
        assert x.cpu() is x
        assert x.is_cpu is True
        assert x.get_device() == -1
        assert lib.ones(2).type_as(x) is not None


def test_new_tensor_copies_its_data():
    data = np.array([1.0, 2.0])
    for lib in (fl, torch):
        t = lib.zeros(1, dtype=lib.float64).new_tensor(data)
        data_before = t.tolist()
        t += 1
        assert data.tolist() == data_before


def test_dtype_predicates_match_torch():
    for make in (lambda lib: lib.ones(1), lambda lib: lib.arange(3), lambda lib: lib.tensor([True]),
                 lambda lib: lib.ones(1, dtype=lib.float16)):
        assert fl.is_floating_point(make(fl)) == torch.is_floating_point(make(torch))
        assert fl.is_complex(make(fl)) == torch.is_complex(make(torch))


def test_cuda_is_absent_and_says_so():
    assert fl.cuda.is_available() is False
    assert fl.cuda.device_count() == 0
    assert fl.cuda.is_initialized() is False
    assert fl.cuda.manual_seed(0) is None and fl.cuda.manual_seed_all(0) is None
    with pytest.raises(NotImplementedError, match=r"torch\.cuda\.synchronize is not implemented in flambeau"):
        fl.cuda.synchronize()
    assert not hasattr(fl.cuda, "current_device")  # also an AttributeError, so hasattr and getattr(..., default) work


def test_the_usual_device_line_runs():
    device = "cuda" if fl.cuda.is_available() else "cpu"
    x = fl.ones(2, device=device).to(device)
    assert x.device.type == "cpu"
