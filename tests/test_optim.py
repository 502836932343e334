"""Optimizers and lr schedulers against PyTorch: 20 steps on a fixed problem give the same parameters and lrs."""

import warnings

import numpy as np
import pytest
import torch

import flambeau

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = RNG.standard_normal((8, 4)).astype(np.float32)
W0 = RNG.standard_normal((3, 4)).astype(np.float32)
B0 = RNG.standard_normal(4).astype(np.float32)


def _loss(lib, params):
    w, b = params
    dt = w.detach().numpy().dtype
    return ((lib.tanh(lib.tensor(X.astype(dt)) @ w + b) - lib.tensor(Y.astype(dt))) ** 2).mean()


def _run(lib, make, steps=20, closure_opt=False, dtype=np.float32):
    params = [lib.nn.Parameter(lib.tensor(W0.astype(dtype))), lib.nn.Parameter(lib.tensor(B0.astype(dtype)))]
    opt = make(lib, params)

    def closure():
        opt.zero_grad()
        loss = _loss(lib, params)
        loss.backward()
        return loss

    for _ in range(steps):
        if closure_opt:
            opt.step(closure)
        else:
            closure()
            opt.step()
    return [p.detach().numpy().copy() for p in params], opt


CONFIGS = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov_max": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True, maximize=True),
    "adam": lambda lib, p: lib.optim.Adam(p, lr=0.05),
    "adam_wd_amsgrad": lambda lib, p: lib.optim.Adam(p, lr=0.05, weight_decay=0.1, amsgrad=True),
    "adamw": lambda lib, p: lib.optim.AdamW(p, lr=0.05),
    "adamw_amsgrad_max": lambda lib, p: lib.optim.AdamW(p, lr=0.05, amsgrad=True, maximize=True),
    "adagrad": lambda lib, p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": lambda lib, p: lib.optim.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda lib, p: lib.optim.RMSprop(p, lr=0.01, momentum=0.9, centered=True, weight_decay=0.01),
    "adadelta": lambda lib, p: lib.optim.Adadelta(p, lr=1.0, weight_decay=0.01),
    "adamax": lambda lib, p: lib.optim.Adamax(p, lr=0.05, weight_decay=0.01),
    "nadam": lambda lib, p: lib.optim.NAdam(p, lr=0.05),
    "nadam_decoupled": lambda lib, p: lib.optim.NAdam(p, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "radam": lambda lib, p: lib.optim.RAdam(p, lr=0.05),
    "radam_decoupled": lambda lib, p: lib.optim.RAdam(p, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "two_groups": lambda lib, p: lib.optim.Adam([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.01}], lr=0.05),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_optimizer_matches_torch(name):
    ours, _ = _run(flambeau, CONFIGS[name])
    theirs, _ = _run(torch, CONFIGS[name])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("dtype, steps, tol", [(np.float64, 4, 1e-9), (np.float32, 2, 1e-4)])
def test_lbfgs_matches_torch(line_search, dtype, steps, tol):
    # tanh saturates on this problem, so float32 rounding grows over many L-BFGS iterations: float64 checks the arithmetic tightly
    make = lambda lib, p: lib.optim.LBFGS(p, lr=0.5 if line_search is None else 1, max_iter=5, history_size=4, line_search_fn=line_search)
    ours, _ = _run(flambeau, make, steps=steps, closure_opt=True, dtype=dtype)
    theirs, _ = _run(torch, make, steps=steps, closure_opt=True, dtype=dtype)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_state_dict_layout_and_round_trip():
    _, ours = _run(flambeau, CONFIGS["adam"], steps=3)
    _, theirs = _run(torch, CONFIGS["adam"], steps=3)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert sd["state"].keys() == tsd["state"].keys()
    for k in tsd["state"]:
        assert sd["state"][k].keys() == tsd["state"][k].keys()
        for name, v in tsd["state"][k].items():
            np.testing.assert_allclose(sd["state"][k][name].numpy(), v.numpy(), rtol=1e-5, atol=1e-7)
    # continuing from a loaded state dict equals continuing the original
    params = [flambeau.nn.Parameter(flambeau.tensor(W0.copy())), flambeau.nn.Parameter(flambeau.tensor(B0.copy()))]
    fresh = flambeau.optim.Adam(params, lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["lr"] == 0.05
    assert fresh.param_groups[0]["params"][0] is params[0]
    assert fresh.state[params[0]]["step"].item() == 3


def test_validation_messages():
    p = [flambeau.nn.Parameter(flambeau.ones(2))]
    tp = [torch.nn.Parameter(torch.ones(2))]
    cases = [("SGD", {"lr": -1}), ("SGD", {"momentum": -0.5}), ("SGD", {"nesterov": True}), ("Adam", {"betas": (1.0, 0.9)}),
             ("Adam", {"betas": (0.9, 1.5)}), ("Adam", {"eps": -1}), ("AdamW", {"weight_decay": -1}), ("Adagrad", {"lr_decay": -1}),
             ("RMSprop", {"alpha": -1}), ("Adadelta", {"rho": 2}), ("NAdam", {"momentum_decay": -1})]
    for name, kw in cases:
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim, name)(tp, **kw)
        with pytest.raises(ValueError, match=None) as ours:
            getattr(flambeau.optim, name)(p, **kw)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        flambeau.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        flambeau.optim.SGD(p[0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        flambeau.optim.SGD([p[0] * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        flambeau.optim.SGD([{"params": p}, {"params": p}], lr=0.1)


def test_zero_grad_and_add_param_group():
    a, b = flambeau.nn.Parameter(flambeau.ones(2)), flambeau.nn.Parameter(flambeau.ones(3))
    opt = flambeau.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5] and opt.param_groups[1]["momentum"] == 0.9
    (a.sum() + b.sum()).backward()
    opt.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


# ---- lr schedulers -------------------------------------------------------------------------------------------

SCHEDULERS = {
    "step": lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5, 11], gamma=0.3),
    "exponential": lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    "cosine": lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "linear": lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=8),
    "lambda": lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + e)),
    "onecycle": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=21),
    "onecycle_3phase_linear": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 2.0], epochs=3, steps_per_epoch=7,
                                                                                anneal_strategy="linear", three_phase=True),
    "sequential": lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4), lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
            lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5)], milestones=[5, 12]),
}


def _lrs(lib, make, opt_name="SGD"):
    p = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))]
    kw = {"momentum": 0.9} if opt_name == "SGD" else {}
    opt = getattr(lib.optim, opt_name)([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.5}], lr=0.1, **kw)
    sched = make(lib, opt)
    out = []
    for _ in range(20):
        opt.step()
        sched.step()
        group = opt.param_groups[0]
        out.append(sched.get_last_lr() + [group["momentum"] if "momentum" in group else group["betas"][0]])
    return out


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
@pytest.mark.filterwarnings("ignore")
def test_scheduler_matches_torch(name):
    for opt_name in ("SGD", "Adam"):
        ours, theirs = _lrs(flambeau, SCHEDULERS[name], opt_name), _lrs(torch, SCHEDULERS[name], opt_name)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)  # 20 steps x (lr of each group, momentum or beta1)


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    runs = []
    for lib in (flambeau, torch):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=1.0)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1, min_lr=0.1)
        lrs = []
        for m in metrics:
            sched.step(m)
            lrs.append(opt.param_groups[0]["lr"])
        runs.append(lrs)
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        flambeau.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"])
def test_defaults_and_repr_match_torch(name):
    ours = getattr(flambeau.optim, name)([flambeau.nn.Parameter(flambeau.ones(1))])
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(1))])
    assert ours.defaults == theirs.defaults
    assert repr(ours) == repr(theirs)


RESUMABLE = {
    "step": lambda lib, o, e: lib.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5, last_epoch=e),
    "multistep": lambda lib, o, e: lib.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 6], gamma=0.3, last_epoch=e),
    "exponential": lambda lib, o, e: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9, last_epoch=e),
    "cosine": lambda lib, o, e: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, last_epoch=e),
    "linear": lambda lib, o, e: lib.optim.lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=6, last_epoch=e),
}


@pytest.mark.parametrize("name", sorted(RESUMABLE))
def test_scheduler_resumes_from_state_dict_like_torch(name):
    def run(lib, stop_at):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=1.0)
        sched = RESUMABLE[name](lib, opt, -1)
        lrs = []
        for i in range(9):
            if i == stop_at:  # rebuild optimizer and scheduler from their state dicts, as a resumed run does
                sd, osd = sched.state_dict(), opt.state_dict()
                assert "optimizer" not in sd
                opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=1.0)
                opt.load_state_dict(osd)
                sched = RESUMABLE[name](lib, opt, sd["last_epoch"])
                sched.load_state_dict(sd)
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = run(torch, 4)
    assert run(flambeau, 4) == pytest.approx(expected, rel=1e-12)
    assert run(flambeau, None) == pytest.approx(run(torch, None), rel=1e-12)
