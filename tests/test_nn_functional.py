"""nn.functional beyond the op table: double backward vs PyTorch, running statistics, dropout, padding rows, errors."""

import importlib
import os
import zlib

import numpy as np
import pytest

import flambeau
from op_table import tensors_for
from op_table.nn import ROWS

torch = pytest.importorskip("torch") if not os.environ.get("CI") else importlib.import_module("torch")
F = flambeau.nn.functional

GRAD_ROWS = [r for r in ROWS if r.grad and r.gradgrad is True]


def _second_order(row, lib):
    """∂/∂inputs of Σ v·(∂ℒ/∂inputs): a Hessian-vector product through the double-backward graph."""
    ins = tensors_for(row, lib, "float64")
    diff = [x for x in ins if isinstance(x, lib.Tensor) and x.requires_grad]
    out = row.fn(lib, *ins)
    out = out[0] if isinstance(out, tuple) else out
    rng = np.random.RandomState(zlib.crc32(row.name.encode()) % 2**32)
    loss = (out * lib.tensor(rng.standard_normal(tuple(out.shape)))).sum()
    grads = lib.autograd.grad(loss, diff, create_graph=True)
    vs = [lib.tensor(rng.standard_normal(tuple(g.shape))) for g in grads]
    zeros = [np.zeros(tuple(x.shape)) for x in diff]
    s = [(g * v).sum() for g, v in zip(grads, vs) if g.requires_grad]
    if not s:  # piecewise-linear ops: a structurally zero second derivative
        return zeros
    hs = lib.autograd.grad(sum(s), diff, allow_unused=True, materialize_grads=lib is torch)
    return [z if h is None else h.detach().numpy(force=True) if lib is torch else h.numpy() for h, z in zip(hs, zeros)]


@pytest.mark.parametrize("row", GRAD_ROWS, ids=[r.name for r in GRAD_ROWS])
def test_double_backward(row):
    """Every formula also runs on Tensors: second derivatives match PyTorch's."""
    if "torch_no_gradgrad" in row.tags:  # PyTorch lacks the formula: piecewise linear, the second derivative is 0
        with pytest.raises(RuntimeError, match="is not implemented"):
            _second_order(row, torch)
        if "curved" not in row.tags:  # a curved one is checked against finite differences by test_op_table's gradgradcheck
            assert all((h == 0).all() for h in _second_order(row, flambeau))
        return
    for a, b in zip(_second_order(row, flambeau), _second_order(row, torch)):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=row.name)


def _pair(a):
    return flambeau.tensor(a.copy()), torch.tensor(a.copy())


def test_batch_norm_running_stats_in_place():
    x = np.random.RandomState(0).standard_normal((5, 3, 4))
    fm, tm = _pair(np.zeros(3))
    fv, tv = _pair(np.ones(3))
    before = fm._version[0]
    F.batch_norm(flambeau.tensor(x), fm, fv, training=True, momentum=0.2)
    torch.nn.functional.batch_norm(torch.tensor(x), tm, tv, training=True, momentum=0.2)
    np.testing.assert_allclose(fm.numpy(), tm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(fv.numpy(), tv.numpy(), rtol=1e-12)
    assert fm._version[0] == before + 1
    fi, ti = _pair(np.zeros(3))
    fj, tj = _pair(np.ones(3))
    F.instance_norm(flambeau.tensor(x), fi, fj, momentum=0.5)
    torch.nn.functional.instance_norm(torch.tensor(x), ti, tj, momentum=0.5)
    np.testing.assert_allclose(fi.numpy(), ti.numpy(), rtol=1e-12)
    np.testing.assert_allclose(fj.numpy(), tj.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="running_mean and running_var must either both be None or neither be None"):
        F.instance_norm(flambeau.tensor(x), fi, None)


def test_dropout_statistics_and_scaling():
    x = flambeau.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y._data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y._data[kept], 1 / 0.7)
    assert y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, kept / 0.7)
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0)._data == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_mask_matches_torch_seeded(dtype):
    outs = []
    for lib in (flambeau, torch):
        lib.manual_seed(7)
        x = lib.ones(13, 9, dtype=getattr(lib, dtype))
        lib.nn.functional.dropout(x, 0.0)  # p = 0 draws nothing, as in PyTorch
        outs.append(lib.nn.functional.dropout(x, 0.35).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("name,fn", [
    ("dropout2d", lambda F, x: F.dropout2d(x, 0.3)), ("dropout1d", lambda F, x: F.dropout1d(x[0], 0.5)),
    ("dropout3d", lambda F, x: F.dropout3d(x, 0.4)), ("alpha_dropout", lambda F, x: F.alpha_dropout(x, 0.3, True)),
    ("feature_alpha_dropout", lambda F, x: F.feature_alpha_dropout(x, 0.2, True)), ("rrelu_train", lambda F, x: F.rrelu(x, training=True)),
])
def test_random_functions_match_torch_seeded(name, fn):
    x = np.random.RandomState(3).standard_normal((2, 3, 4, 5))
    outs, grads = [], []
    for lib in (flambeau, torch):
        lib.manual_seed(11)
        t = lib.tensor(x, requires_grad=True)
        y = fn(lib.nn.functional, t)
        (y * y).sum().backward()
        outs.append(y.detach().numpy())
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_embedding_padding_idx_gets_no_gradient():
    w = np.random.RandomState(1).standard_normal((6, 3))
    idx = np.array([[1, 2, 2], [0, 5, 2]])
    grads = []
    for lib in (flambeau, torch):
        wt = lib.tensor(w, requires_grad=True)
        lib.nn.functional.embedding(lib.tensor(idx), wt, padding_idx=2).pow(2).sum().backward()
        grads.append(wt.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    assert (grads[0][2] == 0).all()


@pytest.mark.parametrize("name,fn,exc", [
    ("nll_bounds", lambda lib: lib.nn.functional.nll_loss(lib.zeros(2, 3), lib.tensor([0, 3])), IndexError),
    ("ce_batch", lambda lib: lib.nn.functional.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1, 2])), ValueError),
    ("bce_size", lambda lib: lib.nn.functional.binary_cross_entropy(lib.zeros(2), lib.zeros(3)), ValueError),
    ("bce_logits_size", lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.zeros(2), lib.zeros(3)), ValueError),
    ("mse_broadcast", lambda lib: lib.nn.functional.mse_loss(lib.zeros(2), lib.zeros(3)), RuntimeError),
    ("reduction", lambda lib: lib.nn.functional.mse_loss(lib.zeros(2), lib.zeros(2), reduction="avg"), ValueError),
    ("bce_range", lambda lib: lib.nn.functional.binary_cross_entropy(lib.ones(2) * 2, lib.ones(2)), RuntimeError),
    ("conv_channels", lambda lib: lib.nn.functional.conv2d(lib.zeros(1, 3, 5, 5), lib.zeros(2, 2, 3, 3)), RuntimeError),
    ("linear_shapes", lambda lib: lib.nn.functional.linear(lib.zeros(2, 3), lib.zeros(4, 5)), RuntimeError),
    ("nll_weight_grad", lambda lib: lib.nn.functional.nll_loss(lib.zeros(2, 3), lib.tensor([0, 1]), lib.ones(3, requires_grad=True)),
     RuntimeError),
    ("ce_weight_grad", lambda lib: lib.nn.functional.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), lib.ones(3, requires_grad=True)),
     RuntimeError),
    ("bce_weight_grad", lambda lib: lib.nn.functional.binary_cross_entropy(lib.full((2,), 0.5), lib.ones(2), lib.ones(2, requires_grad=True)),
     RuntimeError),
    ("bcel_weight_grad", lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.zeros(2), lib.ones(2),
                                                                                         lib.ones(2, requires_grad=True)), RuntimeError),
    ("bcel_pos_weight_grad", lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(lib.zeros(2), lib.ones(2),
                                                                                             pos_weight=lib.ones(2, requires_grad=True)),
     RuntimeError),
    ("linear_vector_bias", lambda lib: lib.nn.functional.linear(lib.zeros(2, 3), lib.zeros(3), lib.zeros(())), RuntimeError),
    ("linear_vector_size", lambda lib: lib.nn.functional.linear(lib.zeros(4, 2), lib.zeros(3)), RuntimeError),
    ("linear_3d_weight", lambda lib: lib.nn.functional.linear(lib.zeros(4, 2), lib.zeros(2, 3, 4)), RuntimeError),
    ("glu_odd", lambda lib: lib.nn.functional.glu(lib.zeros(3)), RuntimeError),
    ("group_norm", lambda lib: lib.nn.functional.group_norm(lib.zeros(2, 3, 4), 2), RuntimeError),
    ("one_hot_neg", lambda lib: lib.nn.functional.one_hot(lib.tensor([-1])), RuntimeError),
    ("embedding_range", lambda lib: lib.nn.functional.embedding(lib.tensor([4]), lib.zeros(3, 2)), IndexError),
    ("soft_margin_target_grad", lambda lib: lib.nn.functional.soft_margin_loss(lib.zeros(2), lib.ones(2, requires_grad=True)), RuntimeError),
    ("soft_margin_int", lambda lib: lib.nn.functional.soft_margin_loss(lib.zeros(2, dtype=lib.int64), lib.ones(2)), RuntimeError),
    ("soft_margin_shape", lambda lib: lib.nn.functional.soft_margin_loss(lib.zeros(3, 4), lib.ones(2, 4)), RuntimeError),
    ("soft_margin_reduction", lambda lib: lib.nn.functional.soft_margin_loss(lib.zeros(2), lib.ones(2), reduction="foo"), ValueError),
    ("multi_margin_p", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1]), p=3), ValueError),
    ("multi_margin_weight_dim", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, 1)),
     ValueError),
    ("multi_margin_weight_size", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1]), weight=lib.ones(2)),
     RuntimeError),
    ("multi_margin_weight_dtype", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3, dtype=lib.float64), lib.tensor([0, 1]),
                                                                                  weight=lib.ones(3)), RuntimeError),
    ("multi_margin_weight_grad", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1]),
                                                                                 weight=lib.ones(3, requires_grad=True)), RuntimeError),
    ("multi_margin_range", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 3])), RuntimeError),
    ("multi_margin_target_size", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([[0, 1]])), RuntimeError),
    ("multi_margin_target_dtype", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 1], dtype=lib.int32)),
     RuntimeError),
    ("multi_margin_3d", lambda lib: lib.nn.functional.multi_margin_loss(lib.zeros(2, 3, 4), lib.tensor([0, 1])), RuntimeError),
    ("multilabel_margin_range", lambda lib: lib.nn.functional.multilabel_margin_loss(lib.zeros(2, 3), lib.tensor([[0, 1, 3], [0, -1, 1]])),
     RuntimeError),
    ("multilabel_margin_negative", lambda lib: lib.nn.functional.multilabel_margin_loss(lib.zeros(3), lib.tensor([0, -2, 1])), RuntimeError),
    ("multilabel_margin_size", lambda lib: lib.nn.functional.multilabel_margin_loss(lib.zeros(2, 3), lib.tensor([[0, 1, 2]])), RuntimeError),
    ("multilabel_margin_dtype", lambda lib: lib.nn.functional.multilabel_margin_loss(lib.zeros(2, 3), lib.zeros(2, 3)), RuntimeError),
    ("multilabel_soft_margin_reduction", lambda lib: lib.nn.functional.multilabel_soft_margin_loss(lib.zeros(2, 3), lib.zeros(2, 3),
                                                                                                  reduction="avg"), ValueError),
])
@pytest.mark.filterwarnings("ignore:Using a target size")
def test_errors_match_torch(name, fn, exc):
    with pytest.raises(exc) as want:
        fn(torch)
    with pytest.raises(exc) as got:
        fn(flambeau)
    assert str(got.value).split("\n\n")[0] == str(want.value)  # flambeau may explain after a blank line


def lib_long(like, values):
    return (torch if isinstance(like, torch.Tensor) else flambeau).tensor(values)


@pytest.mark.parametrize("name,fn", [
    ("relu", lambda F, x: F.relu(x)), ("relu6", lambda F, x: F.relu6(x)), ("linear", lambda F, x: F.linear(x, x, x[0])),
    ("log_softmax", lambda F, x: F.log_softmax(x, 1)), ("gelu", lambda F, x: F.gelu(x)), ("softmin", lambda F, x: F.softmin(x, 1)),
    ("mse", lambda F, x: F.mse_loss(x, x.detach())), ("cross_entropy", lambda F, x: F.cross_entropy(x, lib_long(x, [0, 2, 1, 3]))),
    ("conv2d", lambda F, x: F.conv2d(x.view(1, 1, 4, 4), x.view(1, 1, 4, 4))), ("max_pool", lambda F, x: F.max_pool2d(x.view(1, 1, 4, 4), 2)),
    ("layer_norm", lambda F, x: F.layer_norm(x, (4,))), ("global_avg_pool", lambda F, x: F.adaptive_avg_pool2d(x.view(1, 1, 4, 4), 1)),
    ("batch_norm", lambda F, x: F.batch_norm(x, None, None, training=True)),
    ("embedding", lambda F, x: F.embedding(lib_long(x, [[0, 2], [3, 3]]), x)),
    ("bce_logits", lambda F, x: F.binary_cross_entropy_with_logits(x, x.detach())),
    ("soft_margin", lambda F, x: F.soft_margin_loss(x, x.detach().sign(), reduction="none")),
    ("multi_margin", lambda F, x: F.multi_margin_loss(x, lib_long(x, [0, 2, 1, 3]), p=2)),
    ("multilabel_margin", lambda F, x: F.multilabel_margin_loss(x, lib_long(x, [[0, 2, -1, 1]] * 4), reduction="none")),
    ("multilabel_soft_margin", lambda F, x: F.multilabel_soft_margin_loss(x, x.detach())),
    ("multilabel_soft_margin_none", lambda F, x: F.multilabel_soft_margin_loss(x, x.detach(), reduction="none")),
])
def test_grad_fn_names(name, fn):
    names = []
    for lib in (flambeau, torch):
        x = lib.tensor(np.arange(16.0).reshape(4, 4) / 10, requires_grad=True)
        names.append(fn(lib.nn.functional, x).grad_fn.name())
    assert names[0] == names[1]


def test_gelu_erf_precision():
    import math

    xs = np.linspace(-7, 7, 20001)
    np.testing.assert_allclose(flambeau.erf(flambeau.tensor(xs)).numpy(), [math.erf(v) for v in xs], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(F.gelu(flambeau.tensor(xs)).numpy(), torch.nn.functional.gelu(torch.tensor(xs)).numpy(), rtol=1e-10, atol=1e-300)


def test_float32_stays_float32():
    x = flambeau.tensor(np.ones((2, 3, 6, 6), np.float32), requires_grad=True)
    w = flambeau.tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
    y = F.layer_norm(F.gelu(y), (3,))
    y.sum().backward()
    assert y.dtype == flambeau.float32 and x.grad.dtype == flambeau.float32 and w.grad.dtype == flambeau.float32


def test_loss_weights_that_require_grad_are_fine_under_no_grad():
    """PyTorch refuses class weights requiring grad only while recording; under no_grad the loss is computed."""
    x = np.random.RandomState(5).standard_normal((4, 3))
    vals = []
    for lib in (flambeau, torch):
        with lib.no_grad():
            w = lib.tensor([0.5, 2.0, 1.0], dtype=lib.float64, requires_grad=True)
            vals.append(float(lib.nn.functional.cross_entropy(lib.tensor(x), lib.tensor([0, 2, 1, 1]), weight=w)))
    assert abs(vals[0] - vals[1]) < 1e-12


@pytest.mark.parametrize("call", ["pixel_shuffle(x, 2)", "pixel_unshuffle(x, 2)", "rms_norm(x, [4])"])
def test_top_level_functions_of_nn_functional(call):
    """torch.pixel_shuffle / pixel_unshuffle / rms_norm are also top-level in PyTorch: same values and gradients."""
    a = np.random.RandomState(2).standard_normal((2, 4, 4, 4))
    out = []
    for lib in (flambeau, torch):
        x = lib.tensor(a, requires_grad=True)
        y = eval(call, {"x": x, **{n: getattr(lib, n) for n in ("pixel_shuffle", "pixel_unshuffle", "rms_norm")}})
        (y * y).sum().backward()
        out.append((y.detach().numpy(), x.grad.numpy(), y.grad_fn.name()))
    assert np.allclose(out[0][0], out[1][0], rtol=1e-10) and np.allclose(out[0][1], out[1][1], rtol=1e-10) and out[0][2] == out[1][2]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_without_ignored_targets_equals_the_masked_computation(dtype, reduction):
    """A batch where every target is a class (the common case) skips the ignore_index masks: the loss and its gradient are
    the same bits as the masked computation (reached here through class weights of one), and as PyTorch's within rounding."""
    rng = np.random.RandomState(7)
    x, t = rng.standard_normal((300, 7)).astype(dtype) * 4, rng.randint(0, 7, 300)
    runs = []
    for weight in (None, flambeau.ones(7, dtype=flambeau.tensor(x).dtype)):
        a = flambeau.tensor(x, requires_grad=True)
        loss = F.cross_entropy(a, flambeau.tensor(t), weight=weight, reduction=reduction)
        loss.sum().backward()
        runs.append((loss.detach().numpy(), a.grad.numpy(), loss.grad_fn.name()))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2] == "NllLossBackward0"
    xt = torch.tensor(x, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(xt, torch.tensor(t), reduction=reduction)
    lt.sum().backward()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(runs[0][0], lt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(runs[0][1], xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("target, ignore_index", [([0, 2, 1], 1), ([0, 2, 1], -100), ([0, -100, 1], -100), ([0, 3, 1], -100),
                                                  ([0, -1, 1], -100)])
def test_nll_loss_targets_and_ignore_index_at_the_class_boundaries(target, ignore_index):
    """An ignore_index that is a class, an ignored target, and targets out of range (too large, negative) all behave as in
    PyTorch, values, gradients and errors alike."""
    x = np.random.RandomState(3).standard_normal((3, 3))
    out = []
    for lib in (flambeau, torch):
        a = lib.tensor(x, requires_grad=True)
        try:
            loss = lib.nn.functional.nll_loss(a, lib.tensor(target), ignore_index=ignore_index)
            loss.backward()
            out.append((float(loss), a.grad.numpy()))
        except IndexError as e:
            out.append(str(e))
    if isinstance(out[1], str):
        assert out[0] == out[1]
    else:
        assert abs(out[0][0] - out[1][0]) < 1e-12 and np.allclose(out[0][1], out[1][1], rtol=1e-12, atol=0)
