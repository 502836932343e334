"""Node and tensor hooks, saved-tensor hooks, checkpointing and anomaly mode, against PyTorch."""

import tracemalloc
import warnings

import numpy as np
import pytest

from autograd_helpers import both, fl, leaf, same_error, torch
from flambeau.utils.checkpoint import checkpoint, checkpoint_sequential


def test_node_prehook_and_hook_replace_gradients():
    def f(lib):
        x = leaf(lib, [1., 2.])
        y = x * 2
        seen = []
        y.grad_fn.register_prehook(lambda go: (seen.append(go[0].detach().numpy().copy()), (go[0] * 10,))[1])
        h = y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, None))
        y.sum().backward()
        first = x.grad.clone()
        h.remove()
        x.grad = None
        y2 = x * 2
        y2.sum().backward()
        return first, x.grad, seen
    both(f)


def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    def f(lib):
        x = leaf(lib, [1., 2.])
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.detach().numpy().copy()))
        (x * 3).sum().backward()
        (x * x).sum().backward()
        return seen
    both(f)
    same_error(lambda t: (leaf(t, [1.]) * 2).register_post_accumulate_grad_hook(lambda t: None))


def test_saved_tensors_hooks_pack_and_unpack_what_ops_save():
    def f(lib):
        x = leaf(lib, [0.5, 1.5])
        packed, unpacked = [], []

        def pack(t):
            packed.append(tuple(t.shape))
            return t.detach().numpy().copy() * 1  # stored as a plain array

        def unpack(a):
            unpacked.append(a.shape)
            return lib.tensor(a)
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = (x.exp() * x).sum()
        y.backward()
        return x.grad, len(packed), len(unpacked)
    both(f)


def test_saved_tensors_hooks_apply_to_custom_functions_and_save_on_cpu_is_transparent():
    class Sq(fl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = leaf(fl, [1., 3.])
    calls = []
    with fl.autograd.graph.saved_tensors_hooks(lambda t: calls.append("pack") or t, lambda t: calls.append("unpack") or t):
        y = Sq.apply(x)
    y.sum().backward()
    assert calls == ["pack", "unpack"]
    np.testing.assert_allclose(x.grad.numpy(), [2., 6.])
    x.grad = None
    with fl.autograd.graph.save_on_cpu(pin_memory=True):
        (x.sin() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos([1., 3.]) * [1., 3.] + np.sin([1., 3.]))


def _mlp(lib, depth, width, rng):
    ws = [lib.tensor(rng.standard_normal((width, width)) / np.sqrt(width), requires_grad=True) for _ in range(depth)]
    return ws, [_layer(w) for w in ws]


def _layer(w):
    return lambda h: (h @ w).tanh()


def test_checkpoint_gives_the_same_gradients_as_plain_backward():
    rng = np.random.default_rng(0)
    ws, layers = _mlp(fl, 6, 5, rng)
    x = fl.tensor(rng.standard_normal((3, 5)), requires_grad=True)

    def run(h):
        for f in layers:
            h = f(h)
        return h
    run(x).sum().backward()
    plain = [w.grad.numpy().copy() for w in ws] + [x.grad.numpy().copy()]
    for w in ws + [x]:
        w.grad = None
    checkpoint(run, x, use_reentrant=False).sum().backward()
    for a, b in zip([w.grad.numpy() for w in ws] + [x.grad.numpy()], plain):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for w in ws + [x]:
        w.grad = None
    checkpoint_sequential(layers, 3, x).sum().backward()
    for a, b in zip([w.grad.numpy() for w in ws] + [x.grad.numpy()], plain):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_lowers_peak_memory_of_a_50_layer_mlp():
    """Forward + backward peak (tracemalloc) with checkpointing every 5 layers is well below keeping every activation."""
    rng = np.random.default_rng(1)
    ws, layers = _mlp(fl, 50, 128, rng)
    x = fl.tensor(rng.standard_normal((1024, 128)))  # activations (1 MiB each) dominate the weight gradients

    def segment(chunk):
        def run(h):
            for f in chunk:
                h = f(h)
            return h
        return run

    def peak(use_checkpoint):
        for w in ws:
            w.grad = None
        tracemalloc.start()
        h = x
        for k in range(0, 50, 5):
            h = checkpoint(segment(layers[k:k + 5]), h, use_reentrant=False) if use_checkpoint else segment(layers[k:k + 5])(h)
        h.sum().backward()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top, [w.grad.numpy().copy() for w in ws]
    plain_peak, plain_grads = peak(False)
    ckpt_peak, ckpt_grads = peak(True)
    np.testing.assert_allclose(ckpt_grads, plain_grads, rtol=1e-10)
    activation = 1024 * 128 * 8
    assert plain_peak > 50 * activation  # every layer's activations are kept
    assert ckpt_peak < plain_peak / 2, (ckpt_peak, plain_peak)
    print(f'peak memory: plain {plain_peak / 2**20:.1f} MiB, checkpointed {ckpt_peak / 2**20:.1f} MiB')


def test_anomaly_mode_names_the_node_and_shows_the_forward_call():
    def f(lib):
        x = leaf(lib, [0.0, 1.0])
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                y = x.sqrt() * 0  # the forward line the report must point at
                try:
                    y.sum().backward()
                except RuntimeError as e:
                    return str(e), [str(m.message) for m in w]
    (f_msg, f_warn), (t_msg, t_warn) = f(fl), f(torch)
    assert f_msg == t_msg == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert f_warn[0] == t_warn[0]  # "Anomaly Detection has been enabled..."
    trace = [m for m in f_warn if m.startswith("Error detected in SqrtBackward0. Traceback of forward call")]
    assert trace and "y = x.sqrt() * 0" in trace[0] and "test_autograd_hooks.py" in trace[0]
    assert not fl.is_anomaly_enabled() if hasattr(fl, "is_anomaly_enabled") else not fl.autograd.is_anomaly_enabled()


def test_anomaly_mode_is_off_by_default_and_set_detect_anomaly():
    x = leaf(fl, [0.0, 1.0])
    y = x.sqrt()
    assert not hasattr(y.grad_fn, "_trace") or getattr(y.grad_fn, "_trace", None) is None
    fl.autograd.set_detect_anomaly(True)
    try:
        assert fl.autograd.is_anomaly_enabled()
        z = (x.sqrt() * 0).sum()
        with pytest.raises(RuntimeError, match="SqrtBackward0' returned nan"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z.backward()
    finally:
        fl.autograd.set_detect_anomaly(False)
    assert not fl.autograd.is_anomaly_enabled()
    with fl.autograd.set_detect_anomaly(True, check_nan=False):
        assert fl.autograd.is_anomaly_enabled() and not fl.autograd.is_anomaly_check_nan_enabled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x.sqrt() * 0).sum().backward()  # NaN, but not checked
    assert not fl.autograd.is_anomaly_enabled()


def _kept_gradients_stay_as_they_were(lib):
    """Tensors that hooks and custom backwards keep or hand on are not changed by later accumulation into ``.grad``."""
    out = []
    x = lib.ones(3, requires_grad=True)  # a leaf's hook keeps each gradient it sees
    seen = []
    x.register_hook(lambda g: seen.append(g))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    out += [*seen, x.grad]
    k = lib.tensor([1., 2., 3.])  # a custom backward returns a tensor that lives on

    class Keep(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return k
    y = lib.ones(3, requires_grad=True)
    Keep.apply(y).sum().backward()
    Keep.apply(y).sum().backward()
    y.grad.mul_(10)
    out += [k, y.grad]
    z = lib.ones(3, requires_grad=True)  # retain_grad of a pass-through, and a node's post hook keeping what it hands on
    u = z + 0
    u.retain_grad()
    kept = []
    u.grad_fn.register_hook(lambda gin, gout: kept.append(gin[0]))
    (u * 3).sum().backward()
    z.grad.add_(1)
    out += [u.grad, kept[0], z.grad]
    v = lib.ones(3, requires_grad=True)  # a node's pre hook keeping what arrives
    w = v + 0
    pre = []
    w.grad_fn.register_prehook(lambda gout: pre.append(gout[0]))
    (w * 5).sum().backward()
    v.grad.zero_()
    out += [pre[0], v.grad]
    return out


def test_gradients_kept_by_hooks_or_custom_backwards_are_not_changed_by_accumulation():
    both(_kept_gradients_stay_as_they_were)
