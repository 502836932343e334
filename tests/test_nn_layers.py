"""Layers vs PyTorch: with the weights copied from a torch module of the same shape, the same outputs, parameter
gradients and input gradients; the same state_dict keys and the same repr."""

import numpy as np
import pytest
import torch

import flambeau

RNG = np.random.default_rng(1)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def ints(high, *shape):
    return RNG.integers(0, high, shape)


# name: (constructor(lib), inputs (NumPy arrays), train mode)
LAYERS = {
    "linear":              (lambda nn: nn.Linear(4, 3), [f32(5, 4)]),
    "linear_nobias_3d":    (lambda nn: nn.Linear(4, 3, bias=False), [f32(2, 5, 4)]),
    "bilinear":            (lambda nn: nn.Bilinear(3, 4, 2), [f32(5, 3), f32(5, 4)]),
    "conv1d":              (lambda nn: nn.Conv1d(2, 4, 3, stride=2, padding=1), [f32(2, 2, 9)]),
    "conv2d":              (lambda nn: nn.Conv2d(2, 4, 3, padding=1), [f32(2, 2, 6, 5)]),
    "conv2d_groups":       (lambda nn: nn.Conv2d(2, 4, (3, 2), stride=2, groups=2, bias=False, dilation=(1, 2)), [f32(1, 2, 7, 8)]),
    "conv2d_same":         (lambda nn: nn.Conv2d(3, 2, 3, padding="same"), [f32(1, 3, 5, 5)]),
    "conv_transpose2d":    (lambda nn: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), [f32(2, 4, 3, 3)]),
    "conv_transpose1d":    (lambda nn: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2), [f32(2, 4, 5)]),
    "conv_transpose1d_nobias": (lambda nn: nn.ConvTranspose1d(3, 2, 2, bias=False), [f32(3, 4)]),
    "unfold":              (lambda nn: nn.Unfold((2, 3), dilation=(2, 1), padding=1, stride=[1, 2]), [f32(2, 3, 5, 6)]),
    "unfold_unbatched":    (lambda nn: nn.Unfold(2), [f32(2, 4, 3)]),
    "fold":                (lambda nn: nn.Fold((4, 5), 2, padding=1, stride=2), [f32(2, 12, 9)]),
    "fold_unbatched":      (lambda nn: nn.Fold(3, (2, 2), dilation=[1, 2]), [f32(4, 2)]),
    "zeropad1d":           (lambda nn: nn.ZeroPad1d(2), [f32(2, 3, 4)]),
    "zeropad2d":           (lambda nn: nn.ZeroPad2d((1, 1, 2, 0)), [f32(2, 3, 4, 4)]),
    "zeropad3d_crop":      (lambda nn: nn.ZeroPad3d((1, -1, 0, 2, -1, 1)), [f32(1, 2, 3, 4, 4)]),
    "constantpad1d":       (lambda nn: nn.ConstantPad1d((3, 1), 3.5), [f32(3, 4)]),
    "constantpad2d":       (lambda nn: nn.ConstantPad2d(1, -2.0), [f32(2, 3, 4, 4)]),
    "constantpad3d":       (lambda nn: nn.ConstantPad3d([1, 2, 0, 1, 1, 0], 0.5), [f32(2, 3, 3, 4)]),
    "reflectionpad1d":     (lambda nn: nn.ReflectionPad1d((3, 1)), [f32(2, 3, 5)]),
    "reflectionpad2d":     (lambda nn: nn.ReflectionPad2d(2), [f32(3, 4, 4)]),
    "reflectionpad3d":     (lambda nn: nn.ReflectionPad3d((1, 2, 0, 1, 2, 1)), [f32(1, 2, 3, 4, 4)]),
    "replicationpad1d":    (lambda nn: nn.ReplicationPad1d(3), [f32(3, 4)]),
    "replicationpad2d":    (lambda nn: nn.ReplicationPad2d((1, 4, 2, 0)), [f32(2, 3, 3, 4)]),
    "replicationpad3d":    (lambda nn: nn.ReplicationPad3d(2), [f32(2, 2, 3, 3)]),
    "circularpad1d":       (lambda nn: nn.CircularPad1d((2, 1)), [f32(2, 3, 4)]),
    "circularpad2d":       (lambda nn: nn.CircularPad2d(1), [f32(2, 3, 4, 4)]),
    "circularpad3d":       (lambda nn: nn.CircularPad3d((1, 0, 2, 1, 0, 2)), [f32(1, 2, 3, 4, 4)]),
    "pixelshuffle":        (lambda nn: nn.PixelShuffle(2), [f32(2, 8, 3, 2)]),
    "pixelunshuffle":      (lambda nn: nn.PixelUnshuffle(3), [f32(3, 6, 9)]),
    "upsampling_nearest2d": (lambda nn: nn.UpsamplingNearest2d(scale_factor=2), [f32(2, 3, 3, 4)]),
    "upsampling_nearest2d_size": (lambda nn: nn.UpsamplingNearest2d(size=(5, 7)), [f32(1, 2, 3, 4)]),
    "upsampling_bilinear2d": (lambda nn: nn.UpsamplingBilinear2d(scale_factor=2), [f32(2, 3, 3, 4)]),
    "upsampling_bilinear2d_size": (lambda nn: nn.UpsamplingBilinear2d((5, 3)), [f32(1, 2, 3, 4)]),
    "maxpool1d":           (lambda nn: nn.MaxPool1d(2), [f32(2, 3, 8)]),
    "maxpool2d":           (lambda nn: nn.MaxPool2d(3, stride=2, padding=1), [f32(2, 3, 7, 6)]),
    "avgpool1d":           (lambda nn: nn.AvgPool1d(3, stride=2), [f32(2, 3, 9)]),
    "avgpool2d":           (lambda nn: nn.AvgPool2d(2), [f32(2, 3, 6, 6)]),
    "adaptiveavgpool2d":   (lambda nn: nn.AdaptiveAvgPool2d((2, 3)), [f32(2, 3, 7, 6)]),
    "adaptiveavgpool1d":   (lambda nn: nn.AdaptiveAvgPool1d(3), [f32(2, 3, 7)]),
    "adaptivemaxpool2d":   (lambda nn: nn.AdaptiveMaxPool2d((2, 3)), [f32(2, 3, 7, 6)]),
    "upsample_nearest":    (lambda nn: nn.Upsample(scale_factor=2), [f32(1, 2, 3, 3)]),
    "upsample_bilinear":   (lambda nn: nn.Upsample(size=(5, 7), mode="bilinear", align_corners=False), [f32(1, 2, 3, 4)]),
    "batchnorm1d":         (lambda nn: nn.BatchNorm1d(4), [f32(6, 4)]),
    "batchnorm1d_3d":      (lambda nn: nn.BatchNorm1d(4, momentum=None), [f32(3, 4, 5)]),
    "batchnorm2d":         (lambda nn: nn.BatchNorm2d(3), [f32(2, 3, 4, 4)]),
    "batchnorm2d_eval":    (lambda nn: nn.BatchNorm2d(3).eval(), [f32(2, 3, 4, 4)]),
    "instancenorm1d":      (lambda nn: nn.InstanceNorm1d(4, affine=True), [f32(3, 4, 5)]),
    "instancenorm2d_track": (lambda nn: nn.InstanceNorm2d(3, track_running_stats=True), [f32(2, 3, 4, 4)]),
    "instancenorm2d_unbatched": (lambda nn: nn.InstanceNorm2d(3), [f32(3, 4, 4)]),
    "cosine_similarity":   (lambda nn: nn.CosineSimilarity(dim=1), [f32(4, 5), f32(4, 5)]),
    "pairwise_distance":   (lambda nn: nn.PairwiseDistance(p=1.0, keepdim=True), [f32(4, 5), f32(4, 5)]),
    "layernorm":           (lambda nn: nn.LayerNorm(5), [f32(3, 5)]),
    "layernorm_2d":        (lambda nn: nn.LayerNorm((3, 4), eps=1e-3), [f32(2, 3, 4)]),
    "rmsnorm":             (lambda nn: nn.RMSNorm(5), [f32(3, 5)]),
    "rmsnorm_2d_eps":      (lambda nn: nn.RMSNorm([3, 4], eps=1e-3), [f32(2, 3, 4)]),
    "rmsnorm_no_affine":   (lambda nn: nn.RMSNorm((2, 4), elementwise_affine=False), [f32(3, 2, 4) * 1e-4]),
    "groupnorm":           (lambda nn: nn.GroupNorm(2, 4), [f32(3, 4, 5)]),
    "dropout_eval":        (lambda nn: nn.Dropout(0.5).eval(), [f32(4, 5)]),
    "embedding":           (lambda nn: nn.Embedding(10, 3, padding_idx=0), [ints(10, 4, 5)]),
    "rnn":                 (lambda nn: nn.RNN(3, 5), [f32(4, 2, 3)]),
    "rnn_relu_deep_bi":    (lambda nn: nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True, batch_first=True), [f32(2, 5, 3)]),
    "lstm":                (lambda nn: nn.LSTM(3, 5, num_layers=2, batch_first=True), [f32(2, 4, 3)]),
    "lstm_bi_unbatched":   (lambda nn: nn.LSTM(3, 4, bidirectional=True, bias=False), [f32(6, 3)]),
    "lstm_proj":           (lambda nn: nn.LSTM(3, 5, proj_size=2), [f32(4, 2, 3), (f32(1, 2, 2), f32(1, 2, 5))]),
    "lstm_proj_deep_bi":   (lambda nn: nn.LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=4, batch_first=True),
                            [f32(2, 5, 3), (f32(4, 2, 4), f32(4, 2, 6))]),
    "lstm_proj_nobias":    (lambda nn: nn.LSTM(4, 5, num_layers=3, bias=False, proj_size=3), [f32(3, 2, 4)]),
    "lstm_proj_unbatched": (lambda nn: nn.LSTM(3, 4, bidirectional=True, proj_size=1), [f32(6, 3), (f32(2, 1), f32(2, 4))]),
    "gru":                 (lambda nn: nn.GRU(3, 4, num_layers=2, bidirectional=True), [f32(5, 2, 3)]),
    "rnncell":             (lambda nn: nn.RNNCell(3, 4), [f32(2, 3), f32(2, 4)]),
    "lstmcell":            (lambda nn: nn.LSTMCell(3, 4), [f32(2, 3)]),
    "grucell":             (lambda nn: nn.GRUCell(3, 4), [f32(2, 3), f32(2, 4)]),
    "mha":                 (lambda nn: nn.MultiheadAttention(8, 2), [f32(5, 2, 8), f32(4, 2, 8), f32(4, 2, 8)]),
    "mha_batch_first_kv":  (lambda nn: nn.MultiheadAttention(8, 4, batch_first=True, kdim=6, vdim=5), [f32(2, 5, 8), f32(2, 3, 6), f32(2, 3, 5)]),
    "mha_bias_kv":         (lambda nn: nn.MultiheadAttention(8, 2, add_bias_kv=True), [f32(5, 2, 8), f32(4, 2, 8), f32(4, 2, 8)]),
    "mha_zero_attn_kv":    (lambda nn: nn.MultiheadAttention(8, 4, add_zero_attn=True, batch_first=True, kdim=6, vdim=5),
                            [f32(2, 5, 8), f32(2, 3, 6), f32(2, 3, 5)]),
    "mha_bias_kv_zero_attn": (lambda nn: nn.MultiheadAttention(6, 3, bias=False, add_bias_kv=True, add_zero_attn=True),
                              [f32(3, 2, 6), f32(4, 2, 6), f32(4, 2, 6)]),
    "mha_bias_kv_unbatched": (lambda nn: nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True), [f32(3, 4), f32(5, 4), f32(5, 4)]),
    "transformer_layer":   (lambda nn: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), [f32(5, 2, 8)]),
    "transformer_prenorm": (lambda nn: nn.TransformerEncoderLayer(8, 2, 16, 0.0, "gelu", batch_first=True, norm_first=True), [f32(2, 5, 8)]),
    "sequential_mlp":      (lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.ReLU(), nn.Linear(6, 2)), [f32(4, 3, 4)]),
    "unflatten":           (lambda nn: nn.Sequential(nn.Linear(6, 6), nn.Unflatten(1, (2, 3))), [f32(4, 6)]),
}


def _to_torch(a):
    if isinstance(a, tuple):
        return tuple(_to_torch(x) for x in a)
    return torch.tensor(a, requires_grad=a.dtype.kind == "f")


def _to_ours(a):
    if isinstance(a, tuple):
        return tuple(_to_ours(x) for x in a)
    return flambeau.tensor(a, requires_grad=a.dtype.kind == "f")


def _flat(out):
    if isinstance(out, tuple | list):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


def _pair(name):
    make, inputs = LAYERS[name]
    theirs = make(torch.nn)
    ours = make(flambeau.nn)
    ours.load_state_dict({k: flambeau.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    return ours, theirs, inputs


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_layer_matches_torch(name):
    ours, theirs, inputs = _pair(name)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    xs_o, xs_t = [_to_ours(a) for a in inputs], [_to_torch(a) for a in inputs]
    out_o, out_t = _flat(ours(*xs_o)), _flat(theirs(*xs_t))
    assert len(out_o) == len(out_t)
    for a, b in zip(out_o, out_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-5)
    # the same weighted sum of outputs, backward: parameter and input gradients
    weights = [f32(*b.shape) for b in out_t]
    sum(((o * flambeau.tensor(w)).sum() for o, w in zip(out_o, weights)), flambeau.tensor(0.0)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(out_t, weights)).backward()
    grads_t = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        if grads_t[n].grad is None:
            assert p.grad is None, n
            continue
        np.testing.assert_allclose(p.grad.numpy(), grads_t[n].grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=n)
    for a, b in zip(_flat(xs_o), _flat(xs_t)):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (n, a), (_, b) in zip(ours.named_buffers(), theirs.named_buffers()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)


def test_mha_masks_and_weights():
    ours, theirs, _ = _pair("mha")
    q = f32(3, 2, 8)
    key_pad = np.array([[False, False, True], [False, True, True]])
    causal = np.triu(np.ones((3, 3), bool), 1)
    for kw in ({"key_padding_mask": key_pad}, {"attn_mask": causal}, {"attn_mask": f32(3, 3), "average_attn_weights": False}):
        o = ours(*[flambeau.tensor(q)] * 3, **{k: flambeau.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
        t = theirs(*[torch.tensor(q)] * 3, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()})
        for a, b in zip(o, t):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("extra", [{"add_bias_kv": True}, {"add_zero_attn": True}, {"add_bias_kv": True, "add_zero_attn": True}])
@pytest.mark.parametrize("masks", [{"key_padding_mask": np.array([[False, False, True, False], [False, True, True, False]])},
                                   {"attn_mask": np.triu(np.ones((3, 4), bool), 1)},
                                   {"attn_mask": f32(3, 4), "key_padding_mask": f32(2, 4), "average_attn_weights": False},
                                   {"attn_mask": np.triu(np.ones((4, 3, 4), bool), 2), "key_padding_mask": np.array([[0, 0, 0, 1]] * 2, bool)}])
def test_mha_extra_key_positions_with_masks(extra, masks):
    """bias_k/bias_v and the zero position: the masks gain a column every query may attend to; outputs and gradients as PyTorch."""
    theirs = torch.nn.MultiheadAttention(6, 2, **extra)
    ours = flambeau.nn.MultiheadAttention(6, 2, **extra)
    ours.load_state_dict({k: flambeau.tensor(v.detach().numpy().copy()) for k, v in theirs.state_dict().items()})
    q, kv = f32(3, 2, 6), f32(4, 2, 6)
    kw_o = {k: flambeau.tensor(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()}
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()}
    (qo, ko), (qt, kt) = (_to_ours(q), _to_ours(kv)), (_to_torch(q), _to_torch(kv))
    out_o, out_t = ours(qo, ko, ko, **kw_o), theirs(qt, kt, kt, **kw_t)
    for a, b in zip(out_o, out_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    v = f32(*out_t[0].shape)
    (out_o[0] * flambeau.tensor(v)).sum().backward()
    (out_t[0] * torch.tensor(v)).sum().backward()
    for a, b in [(qo, qt), (ko, kt)] + [(p, dict(theirs.named_parameters())[n]) for n, p in ours.named_parameters()]:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


ACTIVATIONS = ["ReLU()", "ReLU6()", "ELU(alpha=0.5)", "CELU(1.5)", "SELU()", "GELU()", "GELU(approximate='tanh')", "SiLU()", "Mish()",
               "LeakyReLU(0.2)", "Hardtanh(-2.0, 1.5)", "Hardsigmoid()", "Hardswish()", "Threshold(0.1, 20.0)", "Sigmoid()", "Tanh()",
               "LogSigmoid()", "Tanhshrink()", "Softsign()", "Softplus(beta=2.0, threshold=1.0)", "Softshrink(0.3)", "Hardshrink()",
               "GLU()", "Softmax(dim=1)", "LogSoftmax(dim=-1)", "Softmin(dim=0)", "Softmax2d()", "ReLU(inplace=True)"]


@pytest.mark.parametrize("spec", ACTIVATIONS)
def test_activation_module(spec):
    ours, theirs = eval("flambeau.nn." + spec), eval("torch.nn." + spec)
    assert repr(ours) == repr(theirs)
    x = f32(2, 4, 6)
    fn = getattr(ours, "_fn_name", None)
    if fn is not None and not hasattr(flambeau.nn.functional, fn):  # a functional not built yet must say so, not compute something else
        with pytest.raises(NotImplementedError, match=f"flambeau.nn.functional.{fn} is not implemented yet"):
            ours(flambeau.tensor(x))
        return
    a, b = ours(flambeau.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


LOSSES = [("MSELoss()", f32(4, 3), f32(4, 3)), ("L1Loss(reduction='sum')", f32(4, 3), f32(4, 3)),
          ("CrossEntropyLoss()", f32(5, 4), ints(4, 5)), ("CrossEntropyLoss(label_smoothing=0.1, ignore_index=1)", f32(5, 4), ints(4, 5)),
          ("NLLLoss(reduction='none')", f32(5, 4), ints(4, 5)),
          ("BCELoss()", 1 / (1 + np.exp(-f32(4, 3))), RNG.random((4, 3)).astype(np.float32)),
          ("BCEWithLogitsLoss()", f32(4, 3), RNG.random((4, 3)).astype(np.float32)),
          ("KLDivLoss(reduction='batchmean')", f32(4, 3), RNG.random((4, 3)).astype(np.float32)),
          ("HuberLoss(delta=0.5)", f32(4, 3), f32(4, 3)), ("SmoothL1Loss(beta=0.5)", f32(4, 3), f32(4, 3)),
          ("PoissonNLLLoss()", f32(4, 3), RNG.random((4, 3)).astype(np.float32)),
          ("HingeEmbeddingLoss()", f32(4, 3), np.sign(f32(4, 3))), ("MSELoss(size_average=False)", f32(4, 3), f32(4, 3))]


@pytest.mark.parametrize("spec, x, y", LOSSES, ids=[s for s, _, _ in LOSSES])
@pytest.mark.filterwarnings("ignore")
def test_loss_module(spec, x, y):
    ours, theirs = eval("flambeau.nn." + spec), eval("torch.nn." + spec)
    assert repr(ours) == repr(theirs) and ours.reduction == theirs.reduction
    a, b = ours(_to_ours(x), flambeau.tensor(y)), theirs(_to_torch(x), torch.tensor(y))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


MARGIN_LOSSES = {  # name: (constructor(lib, weight), input, target, weight)
    "soft_margin":            (lambda nn, w: nn.SoftMarginLoss(), f32(4, 3), np.sign(f32(4, 3)), None),
    "soft_margin_none":       (lambda nn, w: nn.SoftMarginLoss(reduction="none"), f32(4, 3), np.sign(f32(4, 3)), None),
    "multi_margin":           (lambda nn, w: nn.MultiMarginLoss(), f32(5, 4), ints(4, 5), None),
    "multi_margin_p2_weight": (lambda nn, w: nn.MultiMarginLoss(p=2, margin=0.6, weight=w, reduction="sum"), f32(5, 4), ints(4, 5),
                               RNG.random(4).astype(np.float32)),
    "multi_margin_1d_legacy": (lambda nn, w: nn.MultiMarginLoss(size_average=False), f32(4), ints(4, 1), None),
    "multilabel_margin":      (lambda nn, w: nn.MultiLabelMarginLoss(), f32(5, 4), ints(5, 5, 4) - 1, None),
    "multilabel_margin_none": (lambda nn, w: nn.MultiLabelMarginLoss(reduction="none"), f32(5, 4), ints(5, 5, 4) - 1, None),
    "multilabel_soft_margin": (lambda nn, w: nn.MultiLabelSoftMarginLoss(weight=w), f32(5, 4), RNG.random((5, 4)).astype(np.float32),
                               RNG.random(4).astype(np.float32)),
    "multilabel_soft_margin_sum": (lambda nn, w: nn.MultiLabelSoftMarginLoss(reduction="sum"), f32(2, 5, 4),
                                   RNG.random((2, 5, 4)).astype(np.float32), None),
}


@pytest.mark.parametrize("name", sorted(MARGIN_LOSSES))
@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
def test_margin_loss_modules(name):
    """The four margin losses as modules: repr, reduction, weight buffer, value and input gradient vs PyTorch."""
    make, x, y, w = MARGIN_LOSSES[name]
    ours = make(flambeau.nn, None if w is None else flambeau.tensor(w))
    theirs = make(torch.nn, None if w is None else torch.tensor(w))
    assert repr(ours) == repr(theirs) and ours.reduction == theirs.reduction
    assert list(ours.state_dict()) == list(theirs.state_dict())
    xo, xt = _to_ours(x), _to_torch(x)
    a, b = ours(xo, flambeau.tensor(y)), theirs(xt, torch.tensor(y))
    assert a.grad_fn.name() == b.grad_fn.name()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    v = f32(*b.shape)
    (a * flambeau.tensor(v)).sum().backward()
    (b * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


THREE_INPUT_LOSSES = ["MarginRankingLoss(margin=0.2)", "CosineEmbeddingLoss(margin=0.1)", "TripletMarginLoss(margin=0.5, p=1.0)",
                      "GaussianNLLLoss(full=True)"]


@pytest.mark.parametrize("spec", THREE_INPUT_LOSSES)
def test_three_input_loss_module(spec):
    ours, theirs = eval("flambeau.nn." + spec), eval("torch.nn." + spec)
    if spec.startswith("Margin"):
        args = [f32(6), f32(6), np.sign(f32(6))]
    elif spec.startswith("Cosine"):
        args = [f32(4, 5), f32(4, 5), np.sign(f32(4))]
    elif spec.startswith("Gaussian"):
        args = [f32(4, 3), f32(4, 3), np.abs(f32(4, 3)) + 0.1]
    else:
        args = [f32(4, 5), f32(4, 5), f32(4, 5)]
    a, b = ours(*[_to_ours(x) for x in args]), theirs(*[_to_torch(x) for x in args])
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_weighted_loss_buffers():
    w = np.array([1.0, 2.0, 0.5], np.float32)
    ours, theirs = flambeau.nn.CrossEntropyLoss(weight=flambeau.tensor(w)), torch.nn.CrossEntropyLoss(weight=torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert list(flambeau.nn.CrossEntropyLoss().state_dict()) == []
    x, y = f32(4, 3), ints(3, 4)
    np.testing.assert_allclose(ours(flambeau.tensor(x), flambeau.tensor(y)).numpy(), theirs(torch.tensor(x), torch.tensor(y)).numpy(), rtol=1e-5)


def test_batchnorm_running_stats_over_steps():
    ours, theirs, _ = _pair("batchnorm2d")
    for _ in range(3):
        x = f32(4, 3, 2, 2)
        ours(flambeau.tensor(x))
        theirs(torch.tensor(x))
    for (n, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=n)
    assert ours.num_batches_tracked.item() == 3 and ours.num_batches_tracked.dtype == flambeau.int64
    ours.eval(), theirs.eval()
    x = f32(2, 3, 2, 2)
    np.testing.assert_allclose(ours(flambeau.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        ours(flambeau.ones(2, 3))


FLOAT64_LAYERS = ["conv_transpose1d", "conv_transpose1d_nobias", "unfold", "fold_unbatched", "constantpad3d", "reflectionpad2d",
                  "replicationpad3d", "circularpad2d", "zeropad3d_crop", "pixelshuffle", "pixelunshuffle",
                  "upsampling_nearest2d_size", "upsampling_bilinear2d", "upsampling_bilinear2d_size",
                  "rmsnorm", "rmsnorm_2d_eps", "rmsnorm_no_affine"]


@pytest.mark.parametrize("name", FLOAT64_LAYERS)
def test_layer_matches_torch_float64(name):
    """The same comparison in float64, to float64 tolerances: outputs, input and parameter gradients."""
    ours, theirs, inputs = _pair(name)
    ours, theirs = ours.double(), theirs.double()
    inputs = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in inputs]
    xs_o, xs_t = [_to_ours(a) for a in inputs], [_to_torch(a) for a in inputs]
    out_o, out_t = _flat(ours(*xs_o)), _flat(theirs(*xs_t))
    weights = [RNG.standard_normal(b.shape) for b in out_t]
    for a, b in zip(out_o, out_t):
        assert a.dtype == flambeau.float64
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-10)
    sum(((o * flambeau.tensor(w)).sum() for o, w in zip(out_o, weights)), flambeau.tensor(0.0, dtype=flambeau.float64)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(out_t, weights)).backward()
    grads_t = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads_t[n].grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=n)
    for a, b in zip(xs_o, xs_t):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_conv_transpose1d_output_size():
    x = f32(1, 3, 5)
    ours, theirs = flambeau.nn.ConvTranspose1d(3, 2, 3, stride=3), torch.nn.ConvTranspose1d(3, 2, 3, stride=3)
    ours.load_state_dict({k: flambeau.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    for size in ([16], [17], (1, 2, 15)):
        np.testing.assert_allclose(ours(flambeau.tensor(x), output_size=size).detach().numpy(),
                                   theirs(torch.tensor(x), output_size=size).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError) as t_err:
        theirs(torch.tensor(x), output_size=[18])
    with pytest.raises(ValueError) as o_err:
        ours(flambeau.tensor(x), output_size=[18])
    assert str(o_err.value).replace("flambeau", "torch") == str(t_err.value)


INIT_SPECS = ["Linear(5, 3)", "Conv2d(2, 4, 3)", "Conv1d(2, 4, 3, bias=False)", "Embedding(10, 4, padding_idx=1)", "LSTM(3, 4, 2)",
              "LSTM(3, 5, 2, proj_size=2, bidirectional=True)",
              "GRU(3, 4, bidirectional=True)", "MultiheadAttention(8, 2)",
              "MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)", "MultiheadAttention(8, 4, add_bias_kv=True, kdim=3, vdim=5)",
              "Bilinear(2, 3, 4)", "ConvTranspose2d(3, 2, 3)", "ConvTranspose1d(4, 6, 3, groups=2)", "RMSNorm([2, 3])",
              "TransformerEncoderLayer(8, 2, 16)", "PReLU()", "GRUCell(3, 4)", "BatchNorm1d(3)"]


@pytest.mark.parametrize("spec", INIT_SPECS)
def test_default_init_equals_torch_for_the_same_seed(spec):
    flambeau.manual_seed(0)
    ours = eval("flambeau.nn." + spec)
    torch.manual_seed(0)
    theirs = eval("torch.nn." + spec)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


@pytest.mark.parametrize("name, kw", [("uniform_", {"a": -2, "b": 3}), ("normal_", {"mean": 1, "std": 2}), ("xavier_uniform_", {"gain": 2}),
                                      ("xavier_normal_", {}), ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
                                      ("kaiming_normal_", {"a": 0.1}), ("orthogonal_", {"gain": 1.5}), ("constant_", {"val": 0.3}),
                                      ("ones_", {}), ("zeros_", {}), ("eye_", {}), ("trunc_normal_", {"std": 0.5, "a": -1, "b": 1}),
                                      ("trunc_normal_", {"a": 1.5, "b": 3.0})])
def test_init_functions_equal_torch(name, kw):
    for shape in [(4, 6), (6, 4)] + ([(3, 2, 5)] if name not in ("eye_",) else []):
        flambeau.manual_seed(1)
        ours = getattr(flambeau.nn.init, name)(flambeau.empty(*shape), **kw)
        torch.manual_seed(1)
        theirs = getattr(torch.nn.init, name)(torch.empty(*shape), **kw)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    w = flambeau.nn.Parameter(flambeau.empty(3, 3))
    getattr(flambeau.nn.init, name)(w, **kw)  # under no_grad: allowed on a leaf that requires grad
    assert w.requires_grad and w.is_leaf
    for nl in ["linear", "sigmoid", "tanh", "relu", "selu", "conv2d"]:
        assert flambeau.nn.init.calculate_gain(nl) == torch.nn.init.calculate_gain(nl)
    assert flambeau.nn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain("leaky_relu", 0.2)
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        flambeau.nn.init.calculate_gain("foo")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"):
        flambeau.nn.init.xavier_uniform_(flambeau.empty(3))


@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"])
def test_dropout_modules_equal_torch_for_the_same_seed(name):
    x = {"Dropout2d": f32(4, 3, 5, 2), "Dropout3d": f32(4, 3, 5, 2, 2)}.get(name, f32(4, 3, 5))
    ours, theirs = getattr(flambeau.nn, name)(0.4), getattr(torch.nn, name)(0.4)
    assert repr(ours) == repr(theirs)
    flambeau.manual_seed(7)
    a = ours(flambeau.tensor(x))
    torch.manual_seed(7)
    b = theirs(torch.tensor(x))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours.eval()(flambeau.tensor(x)).numpy(), x)


def test_prelu():
    ours, theirs = flambeau.nn.PReLU(3), torch.nn.PReLU(3)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == ["weight"] and ours.weight.tolist() == [0.25] * 3
    x = f32(2, 3, 4)
    if not hasattr(flambeau.nn.functional, "prelu"):
        with pytest.raises(NotImplementedError, match="prelu"):
            ours(flambeau.tensor(x))
        return
    np.testing.assert_allclose(ours(flambeau.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("spec, h0, c0", [("LSTM(3, 5, proj_size=2)", (1, 2, 5), (1, 2, 5)), ("LSTM(3, 5, proj_size=2)", (1, 2, 2), (1, 2, 2)),
                                          ("LSTM(3, 5)", (1, 2, 4), (1, 2, 5)), ("LSTM(3, 5, bidirectional=True)", (2, 2, 5), (1, 2, 5))])
def test_lstm_hidden_size_errors(spec, h0, c0):
    x = f32(4, 2, 3)
    with pytest.raises(RuntimeError) as theirs:
        eval("torch.nn." + spec)(torch.tensor(x), (torch.zeros(h0), torch.zeros(c0)))
    with pytest.raises(RuntimeError) as ours:
        eval("flambeau.nn." + spec)(flambeau.tensor(x), (flambeau.zeros(h0), flambeau.zeros(c0)))
    assert str(ours.value) == str(theirs.value)


def test_default_init_statistics():
    """Default initialisations follow PyTorch's bounds: kaiming_uniform(a=√5) for weights, U(±1/√fan_in) for biases."""
    lin = flambeau.nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound and abs(w.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound and w.dtype == np.float32
    conv = flambeau.nn.Conv2d(8, 4, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= 1 / np.sqrt(72)
    emb = flambeau.nn.Embedding(1000, 20, padding_idx=3)
    e = emb.weight.detach().numpy()
    assert abs(e.std() - 1) < 0.05 and not e[3].any()
    lstm = flambeau.nn.LSTM(10, 25)
    assert all(np.abs(p.detach().numpy()).max() <= 0.2 for p in lstm.parameters())
    assert flambeau.nn.Linear(2, 2, dtype=flambeau.float64).weight.dtype == flambeau.float64


def test_constructor_errors_match_torch():
    for spec in ["Conv2d(3, 4, 3, groups=2)", "Conv2d(4, 3, 3, groups=2)", "Dropout(1.5)", "GroupNorm(3, 4)",
                 "Conv2d(2, 2, 3, stride=2, padding='same')", "RNN(2, 3, nonlinearity='sigmoid')",
                 "LSTM(3, 5, proj_size=5)", "LSTM(3, 5, proj_size=-1)",
                 "ConvTranspose1d(2, 2, 3, padding_mode='reflect')", "ConvTranspose1d(3, 2, 3, groups=2)"]:
        with pytest.raises(ValueError) as theirs:
            eval("torch.nn." + spec)
        with pytest.raises(ValueError) as ours:
            eval("flambeau.nn." + spec)
        assert str(ours.value) == str(theirs.value), spec


@pytest.mark.parametrize("name", flambeau.nn.modules.loss.__all__ + flambeau.nn.modules.activation.__all__)
def test_every_loss_and_activation_module_exists_like_torch(name):
    """Each has PyTorch's name and constructor defaults; one whose functional is missing raises NotImplementedError naming it."""
    required = {"Threshold": (0.1, 20.0), "MultiheadAttention": (8, 2)}.get(name, ())
    ours, theirs = getattr(flambeau.nn, name)(*required), getattr(torch.nn, name)(*required)
    assert repr(ours).replace("flambeau", "torch") == repr(theirs)
    fn = getattr(ours, "_fn_name", None)
    if fn is not None and not hasattr(flambeau.nn.functional, fn):
        with pytest.raises(NotImplementedError, match=fn):
            ours(flambeau.ones(2, 3), flambeau.ones(2, 3))


def test_padding_modules_classes_and_errors():
    assert isinstance(flambeau.nn.ZeroPad2d(1), flambeau.nn.ConstantPad2d) and flambeau.nn.ZeroPad2d(1).value == 0.0
    assert flambeau.nn.ConstantPad2d([1, 2, 3, 4], 1).padding == torch.nn.ConstantPad2d([1, 2, 3, 4], 1).padding == (1, 2, 3, 4)
    for spec, shape in [("ReflectionPad1d(3)", (1, 2, 3)), ("CircularPad1d(5)", (1, 2, 3))]:
        with pytest.raises(RuntimeError) as theirs:
            eval("torch.nn." + spec)(torch.zeros(shape))
        with pytest.raises(RuntimeError) as ours:
            eval("flambeau.nn." + spec)(flambeau.zeros(shape))
        assert str(ours.value) == str(theirs.value), spec


@pytest.mark.parametrize("call", ["pixel_shuffle(zeros(3, 3), 2)", "pixel_shuffle(zeros(1, 5, 3, 3), 2)", "pixel_shuffle(zeros(1, 4, 2, 2), 0)",
                                  "pixel_unshuffle(zeros(1, 5, 3, 4), 2)", "pixel_unshuffle(zeros(1, 5, 4, 3), 2)",
                                  "pixel_unshuffle(zeros(1, 5), 2)", "pixel_unshuffle(zeros(1, 4, 2, 2), 0)"])
def test_pixel_shuffle_errors_match_torch(call):
    zeros = torch.zeros  # noqa: F841 (used by eval)
    with pytest.raises(RuntimeError) as theirs:
        eval("torch.nn.functional." + call)
    zeros = flambeau.zeros  # noqa: F841
    with pytest.raises(RuntimeError) as ours:
        eval("flambeau.nn.functional." + call)
    assert str(ours.value) == str(theirs.value)


def test_rms_norm_errors_match_torch():
    x = f32(2, 3, 4)
    for args in [((3,),), ((2, 4),), ((4,), f32(3)), ((3, 4), f32(4)), ((2, 3, 4, 5),), (4,)]:
        with pytest.raises((RuntimeError, ValueError, TypeError)) as theirs:
            torch.nn.functional.rms_norm(torch.tensor(x), args[0], *(torch.tensor(a) for a in args[1:]))
        with pytest.raises(theirs.type) as ours:
            flambeau.nn.functional.rms_norm(flambeau.tensor(x), args[0], *(flambeau.tensor(a) for a in args[1:]))
        assert str(ours.value) == str(theirs.value), args
