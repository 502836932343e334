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


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(2, 3), (2, 3, 4), (1,), (0, 2), ((), 3)])
def test_meshgrid_values_gradients_and_grad_fn_match_torch(indexing, sizes):
    def run(lib):
        ins = [lib.tensor(3.0 + k, dtype=lib.float64, requires_grad=True) if n == () else
               lib.arange(1.0, n + 1, dtype=lib.float64).mul(k + 1).requires_grad_() for k, n in enumerate(sizes)]
        grids = lib.meshgrid(*ins, indexing=indexing)
        weights = [lib.arange(float(g.numel()), dtype=lib.float64).reshape(g.shape) for g in grids]
        sum(((g * w).sum() for g, w in zip(grids, weights)), lib.zeros((), dtype=lib.float64)).backward()
        names = [g.grad_fn.name() for g in grids]
        return [g.detach().numpy() for g in grids], [x.grad.numpy() for x in ins], names
    (fg, fgrad, fnames), (tg, tgrad, tnames) = run(fl), run(torch)
    for a, b in zip(fg + fgrad, tg + tgrad):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert fnames == tnames


def test_meshgrid_warns_without_indexing_and_takes_a_list():
    def run(lib):
        with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
            a, b = lib.meshgrid([lib.tensor([1, 2]), lib.tensor([3, 4, 5])])
        return a.tolist(), b.tolist()
    assert run(fl) == run(torch)


@pytest.mark.parametrize("call", [
    lambda lib: lib.meshgrid(indexing="ij"),
    lambda lib: lib.meshgrid(lib.ones(2), lib.ones(2), indexing="zz"),
    lambda lib: lib.meshgrid(lib.tensor([1, 2]), lib.tensor([1.0]), indexing="ij"),
    lambda lib: lib.meshgrid(lib.ones(2, 1), lib.ones(2), indexing="ij"),
], ids=["empty", "bad_indexing", "dtypes", "2d"])
def test_meshgrid_errors_match_torch(call):
    errors = []
    for lib in (fl, torch):
        with pytest.raises(RuntimeError) as e:
            call(lib)
        errors.append(str(e.value))
    # PyTorch prints the offending 2-D tensor in its legacy format; flambeau names its shape after the same opening
    prefix = errors[1].split("got:")[0] + "got:" if "got:" in errors[1] else errors[1]
    assert errors[0].startswith(prefix), errors


@pytest.mark.parametrize("make", [lambda lib: lib.tensor([0.0]), lambda lib: lib.tensor(3), lambda lib: lib.tensor([[True]]),
                                  lambda lib: lib.tensor([]), lambda lib: lib.tensor([1.0, 2.0])])
def test_is_nonzero_matches_torch(make):
    results = []
    for lib in (fl, torch):
        try:
            results.append(("value", make(lib).is_nonzero(), lib.is_nonzero(make(lib))))
        except RuntimeError as e:
            results.append(("error", str(e)))
    assert results[0] == results[1]


def test_is_signed_matches_torch():
    for name in ("float32", "float64", "int64", "int32", "int8", "uint8", "bool", "float16"):
        assert fl.ones(1, dtype=getattr(fl, name)).is_signed() == torch.ones(1, dtype=getattr(torch, name)).is_signed(), name


def test_threads_and_determinism_settings_round_trip_as_in_torch():
    before = fl.get_num_threads()
    try:
        fl.set_num_threads(1)
        assert fl.get_num_threads() == 1
        for bad in (0, -2, 1.5):
            with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
                fl.set_num_threads(bad)
        with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
            torch.set_num_threads(0)
    finally:
        fl.set_num_threads(before)
    assert fl.are_deterministic_algorithms_enabled() is False
    try:
        fl.use_deterministic_algorithms(True, warn_only=True)
        assert fl.are_deterministic_algorithms_enabled() and fl.is_deterministic_algorithms_warn_only_enabled()
    finally:
        fl.use_deterministic_algorithms(False)
    assert not fl.are_deterministic_algorithms_enabled() and not fl.is_deterministic_algorithms_warn_only_enabled()


def test_the_usual_reproducibility_lines_run():
    cudnn = fl.backends.cudnn
    defaults = {k: getattr(torch.backends.cudnn, k) for k in ("enabled", "benchmark", "deterministic", "allow_tf32")}
    assert {k: getattr(cudnn, k) for k in defaults} == defaults
    assert cudnn.is_available() is False and cudnn.version() is None
    try:
        cudnn.deterministic, cudnn.benchmark = True, False
        assert cudnn.deterministic is True
    finally:
        cudnn.deterministic = defaults["deterministic"]
    with pytest.raises(NotImplementedError, match=r"torch\.backends\.mps is not implemented in flambeau"):
        _ = fl.backends.mps
