"""nn.Module machinery vs PyTorch: registration, traversal, state_dict, modes, dtype casts, hooks, repr, containers."""

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import flambeau


def _both(fn):
    return fn(flambeau), fn(torch)


def _errors_match(fn, exc):
    with pytest.raises(exc) as theirs:
        fn(torch)
    with pytest.raises(exc) as ours:
        fn(flambeau)
    assert str(ours.value).replace("flambeau", "torch") == str(theirs.value), (str(ours.value), str(theirs.value))


def _net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.nn.Conv2d(1, 2, 3)
            self.bn = lib.nn.BatchNorm2d(2)
            self.blocks = lib.nn.ModuleList([lib.nn.Linear(4, 4), lib.nn.Linear(4, 4)])
            self.head = lib.nn.Sequential(OrderedDict(act=lib.nn.ReLU(), out=lib.nn.Linear(4, 2)))
            self.extra = lib.nn.Parameter(lib.ones(3))
            self.register_buffer("counter", lib.zeros(1))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)
            self.shared = self.blocks[0]

        def forward(self, x):
            return x
    return Net()


def test_parameter():
    p = flambeau.nn.Parameter(flambeau.tensor([1.0, 2.0]))
    assert p.requires_grad and p.is_leaf and isinstance(p, flambeau.Tensor)
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert not flambeau.nn.Parameter(flambeau.ones(1), requires_grad=False).requires_grad
    assert type(p * 2) is flambeau.Tensor
    assert isinstance(copy.deepcopy(p), flambeau.nn.Parameter)


def test_names_and_traversal_match_torch():
    ours, theirs = _both(_net)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == [n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == ["extra"]
    assert repr(ours) == repr(theirs)
    assert ours.get_submodule("head.out") is ours.head.out
    assert ours.get_parameter("blocks.1.bias") is ours.blocks[1].bias


def test_state_dict_round_trip_strict_and_not():
    ours, theirs = _both(_net)
    ours.load_state_dict({k: flambeau.tensor(v.numpy().copy()) for k, v in theirs.state_dict().items()})
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    sd = ours.state_dict()
    assert not sd["extra"].requires_grad and ours.state_dict(keep_vars=True)["extra"] is ours.extra
    del sd["extra"]
    sd["bogus"] = flambeau.ones(1)
    result = ours.load_state_dict(sd, strict=False)
    tresult = theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()}, strict=False)
    assert result.missing_keys == tresult.missing_keys == ["extra"] and result.unexpected_keys == tresult.unexpected_keys == ["bogus"]
    assert repr(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"

    def strict_errors(lib):
        m = lib.nn.Linear(2, 3)
        m.load_state_dict({"weight": lib.zeros(2, 2), "foo": lib.zeros(1)})
    _errors_match(strict_errors, RuntimeError)


def test_assignment_semantics_match_torch():
    def assign_tensor_to_param(lib):
        lib.nn.Linear(2, 3).weight = lib.zeros(3, 2)
    _errors_match(assign_tensor_to_param, TypeError)
    _errors_match(lambda lib: lib.nn.Linear(2, 3).foo, AttributeError)
    _errors_match(lambda lib: lib.nn.Linear(2, 3).register_buffer("weight", lib.zeros(1)), KeyError)
    _errors_match(lambda lib: lib.nn.Linear(2, 3).register_parameter("a.b", None), KeyError)
    _errors_match(lambda lib: lib.nn.Linear(2, 3).add_module("x", 3), TypeError)
    _errors_match(lambda lib: lib.nn.Linear(2, 3).train(3), ValueError)
    m = flambeau.nn.Linear(2, 3)
    m.weight = None
    assert "weight" in m._parameters and m.weight is None and [n for n, _ in m.named_parameters()] == ["bias"]
    del m.bias
    assert "bias" not in m._parameters
    m.sub = flambeau.nn.ReLU()
    assert list(m._modules) == ["sub"]
    m.sub = flambeau.nn.Parameter(flambeau.ones(1))  # re-assigning a name moves it between registries
    assert "sub" not in m._modules and "sub" in m._parameters
    m.plain = 3
    assert m.plain == 3 and "plain" in m.__dict__


def test_modes_grads_apply_and_dtype():
    net = _net(flambeau)
    assert net.training and not net.eval().bn.training and net.train().head.act.training
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    (net.extra * 2).sum().backward()
    assert net.extra.grad.tolist() == [2.0, 2.0, 2.0]
    net.zero_grad(set_to_none=False)
    assert net.extra.grad.tolist() == [0.0, 0.0, 0.0]
    net.zero_grad()
    assert net.extra.grad is None
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Conv2d"
    p = net.extra
    assert net.double() is net and net.extra is p and p.dtype == flambeau.float64 and net.bn.running_mean.dtype == flambeau.float64
    assert net.bn.num_batches_tracked.dtype == flambeau.int64
    assert net.float().conv.weight.dtype == flambeau.float32
    assert net.to(flambeau.float64).head.out.bias.dtype == flambeau.float64
    with pytest.raises(NotImplementedError):
        net.to("cuda")


def test_forward_hooks():
    m = flambeau.nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(flambeau.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(m.bias.detach().numpy() + 1, (3, 2)), rtol=1e-6)
    assert calls == [flambeau.Size([3, 2])]
    h1.remove(), h2.remove()
    assert not m._forward_pre_hooks and not m._forward_hooks
    m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] * 2,), kwargs), with_kwargs=True)
    np.testing.assert_allclose(m(flambeau.ones(1, 2)).detach().numpy(), m.forward(flambeau.full((1, 2), 2.0)).detach().numpy())


def test_always_call_hook_runs_when_forward_fails():
    m = flambeau.nn.Linear(2, 2)
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(out), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append("not always"))
    with pytest.raises(RuntimeError):
        m(flambeau.ones(3, 5))
    assert seen == [None]


def test_full_backward_hook_matches_torch():
    def run(lib):
        m = lib.nn.Linear(3, 2)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]]))
        seen = []

        def hook(mod, grad_input, grad_output):
            seen.append(([g.tolist() for g in grad_input], [g.tolist() for g in grad_output]))
            return (grad_input[0] * 10,)
        m.register_full_backward_hook(hook)
        x = lib.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        (m(x) * lib.tensor([[1.0, -1.0]])).sum().backward()
        return seen, x.grad.tolist()
    assert run(flambeau) == run(torch)


def test_containers_match_torch():
    def build(lib):
        seq = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
        seq.append(lib.nn.Sigmoid())
        return seq
    ours, theirs = _both(build)
    assert len(ours) == 4 and repr(ours) == repr(theirs)
    assert repr(ours[1:3]) == repr(theirs[1:3]) and type(ours[-1]).__name__ == "Sigmoid"
    assert list(ours[1:].state_dict()) == list(theirs[1:].state_dict())
    with pytest.raises(IndexError, match="index 4 is out of range"):
        ours[4]
    del ours[1]
    assert [type(m).__name__ for m in ours] == ["Linear", "Linear", "Sigmoid"] and list(ours._modules) == ["0", "1", "2"]
    ml, tml = _both(lambda lib: lib.nn.ModuleList([lib.nn.Linear(1, 1) for _ in range(3)] + [lib.nn.ReLU()]))
    assert repr(ml) == repr(tml) and len(ml) == 4 and len(ml[:2]) == 2
    ml.insert(0, flambeau.nn.Tanh())
    assert type(ml[0]).__name__ == "Tanh" and list(ml.state_dict())[0] == "1.weight"
    md, tmd = _both(lambda lib: lib.nn.ModuleDict({"a": lib.nn.Linear(2, 2), "b": lib.nn.ReLU()}))
    assert repr(md) == repr(tmd) and list(md.keys()) == ["a", "b"] and "a" in md and list(md.state_dict()) == list(tmd.state_dict())
    pl, tpl = _both(lambda lib: lib.nn.ParameterList([lib.ones(2, 3), lib.nn.Parameter(lib.zeros(4))]))
    assert repr(pl).replace("flambeau", "torch") == repr(tpl) and isinstance(pl[0], flambeau.nn.Parameter)
    assert list(pl.state_dict()) == list(tpl.state_dict())
    pd, tpd = _both(lambda lib: lib.nn.ParameterDict({"w": lib.ones(2), "b": lib.zeros(1)}))
    assert repr(pd).replace("flambeau", "torch") == repr(tpd) and list(pd.state_dict()) == list(tpd.state_dict())
    assert list(pd.keys()) == list(tpd.keys()) == ["b", "w"] and isinstance(pd["w"], flambeau.nn.Parameter)


def test_identity_flatten_unflatten_reprs():
    for spec in ["Identity()", "Flatten()", "Flatten(0, 2)", "Unflatten(1, (2, 5))", "Dropout(0.2)", "Embedding(10, 3, padding_idx=2)",
                 "MaxPool2d(2)", "AvgPool1d(3)", "AvgPool2d(2, stride=1, padding=1)", "AdaptiveAvgPool2d(1)", "Conv2d(1, 6, 3, bias=False)",
                 "ConvTranspose2d(3, 2, 2, stride=2)", "Conv1d(2, 2, 3, padding=2, dilation=2, padding_mode='circular')",
                 "BatchNorm1d(3, momentum=None, affine=False)", "LSTM(3, 4, 2, batch_first=True, dropout=0.5)", "GRUCell(3, 4, bias=False)",
                 "RNN(2, 3, nonlinearity='relu')", "Bilinear(2, 3, 4)", "PReLU(3)", "Softmax2d()", "RReLU()"]:
        assert repr(eval("flambeau.nn." + spec)) == repr(eval("torch.nn." + spec)), spec


def test_deepcopy_module():
    net = _net(flambeau)
    clone = copy.deepcopy(net)
    assert list(clone.state_dict()) == list(net.state_dict())
    clone.extra.data = flambeau.zeros(3)
    assert net.extra.tolist() == [1.0, 1.0, 1.0]
