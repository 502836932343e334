"""The benchmark workloads: each once against the PyTorch API (``lib`` = flambeau or torch), once in NumPy.

A runner has ``step()`` (one timed iteration) and ``check()`` (a number proving it did the math).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Runner:
    step: Callable
    check: Callable


@dataclass
class Workload:
    id: str
    name: str
    target: str
    make: Callable  # lib -> Runner
    numpy: Callable  # () -> Runner
    inner: int = 1


# ---- W1: the course's regression, one epoch per step -------------------------------------------

def w1(lib) -> Runner:
    X = lib.tensor([1, 2, 3, 4, 5, 6, 7, 8], dtype=lib.float32)
    Y = lib.tensor([2, 4, 6, 8, 10, 12, 14, 16], dtype=lib.float32)
    W = lib.tensor(0.0, dtype=lib.float32, requires_grad=True)
    state = {"loss": 0.0, "epoch": 0}

    def step():
        nonlocal W  # `W -= ...` rebinds the name (to the same tensor, updated in place)
        if state["epoch"] == 100:  # restart the course's 100 epochs
            with lib.no_grad():
                W.zero_()
            state["epoch"] = 0
        l = ((W * X - Y) ** 2).mean()
        l.backward()
        with lib.no_grad():
            W -= 0.01 * W.grad
        W.grad.zero_()
        state["epoch"] += 1
        state["loss"] = l
    return Runner(step, lambda: float(W.item()))


def w1_numpy() -> Runner:
    X = np.arange(1, 9, dtype=np.float32)
    Y = 2 * X
    W = np.zeros((), np.float32)
    state = {"epoch": 0}

    def step():
        nonlocal W
        if state["epoch"] == 100:
            W = np.zeros((), np.float32)
            state["epoch"] = 0
        d = W * X - Y
        (d * d).mean()
        W = W - np.float32(0.01) * (2 * d * X).mean()
        state["epoch"] += 1
    return Runner(step, lambda: float(W))


# ---- W2: small tensors: per-op overhead -------------------------------------------------------------

def _small(lib, n=16):
    rng = np.random.RandomState(0)
    arrays = [rng.rand(n).astype(np.float32) for _ in range(3)]
    return arrays if lib is np else [lib.tensor(a, requires_grad=True) for a in arrays]


def w2a(lib) -> Runner:
    x, w, b = _small(lib)

    def step():
        ((x * w + b).tanh() * 2).sum().backward()
        x.grad = w.grad = b.grad = None
    return Runner(step, lambda: (step(), float(((x * w + b).tanh() * 2).sum().item()))[1])


def w2a_numpy() -> Runner:
    x, w, b = _small(np)
    out = {}

    def step():
        t = np.tanh(x * w + b)
        (t * 2).sum()
        g = 2 * (1 - t * t)
        out["gx"], out["gw"], out["gb"] = g * w, g * x, g
    return Runner(step, lambda: float((np.tanh(x * w + b) * 2).sum()))


def w2b(lib, grad: bool) -> Runner:
    a, b, _ = _small(lib)
    if grad:
        return Runner(lambda: a + b, lambda: float((a + b).sum().item()))
    ctx = lib.no_grad()

    def step():
        with ctx:
            a + b
    return Runner(step, lambda: float((a + b).sum().item()))


def w2b_numpy() -> Runner:
    a, b, _ = _small(np)
    return Runner(lambda: a + b, lambda: float((a + b).sum()))


# ---- W3: MLP on scikit-learn's digits, one epoch per step ------------------------------------------

def _digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    return X, d.target.astype(np.int64)


def _init_mlp(seed=0):
    rng = np.random.RandomState(seed)
    k1, k2 = 1 / np.sqrt(64), 1 / np.sqrt(128)
    return [rng.uniform(-k1, k1, (128, 64)).astype(np.float32), rng.uniform(-k1, k1, 128).astype(np.float32),
            rng.uniform(-k2, k2, (10, 128)).astype(np.float32), rng.uniform(-k2, k2, 10).astype(np.float32)]


def w3(lib) -> Runner:
    nn, F, optim = lib.nn, lib.nn.functional, lib.optim
    X, y = _digits()
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    with lib.no_grad():
        for p, v in zip(model.parameters(), _init_mlp()):
            p.copy_(lib.tensor(v))
    opt = optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = lib.tensor(X), lib.tensor(y)
    order = np.random.RandomState(0).permutation(len(X))
    batches = [(Xt[lib.tensor(order[i:i + 64])], yt[lib.tensor(order[i:i + 64])]) for i in range(0, len(X), 64)]

    def step():
        for xb, yb in batches:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()

    def check():
        with lib.no_grad():
            return float((model(Xt).argmax(1) == yt).float().mean().item())
    return Runner(step, check)


def w3_numpy() -> Runner:
    X, y = _digits()
    W1, b1, W2, b2 = _init_mlp()
    order = np.random.RandomState(0).permutation(len(X))
    batches = [(X[order[i:i + 64]], y[order[i:i + 64]]) for i in range(0, len(X), 64)]
    eye = np.eye(10, dtype=np.float32)

    def step():
        for xb, yb in batches:
            h = xb @ W1.T + b1
            r = np.maximum(h, 0)
            z = r @ W2.T + b2
            z = z - z.max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            gz = (p - eye[yb]) / len(xb)
            gW2, gb2 = gz.T @ r, gz.sum(0)
            gh = (gz @ W2) * (h > 0)
            gW1, gb1 = gh.T @ xb, gh.sum(0)
            for P, G in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
                P -= 0.1 * G

    def check():
        return float(((np.maximum(X @ W1.T + b1, 0) @ W2.T + b2).argmax(1) == y).mean())
    return Runner(step, check)


# ---- W4: one large matmul, ReLU, sum, backward ------------------------------------------------------

def _big():
    rng = np.random.RandomState(0)
    return rng.standard_normal((1024, 1024)).astype(np.float32), rng.standard_normal((1024, 1024)).astype(np.float32)


def w4(lib) -> Runner:
    a, b = _big()
    A, B = lib.tensor(a, requires_grad=True), lib.tensor(b)

    def step():
        lib.relu(A @ B).sum().backward()
        A.grad = None
    return Runner(step, lambda: (lib.relu(A @ B).sum().backward(), float(A.grad[0, 0].item()), setattr(A, "grad", None))[1])


def w4_numpy() -> Runner:
    A, B = _big()
    out = {}

    def step():
        C = A @ B
        np.maximum(C, 0).sum()
        out["gA"] = (C > 0).astype(np.float32) @ B.T
    return Runner(step, lambda: (step(), float(out["gA"][0, 0]))[1])


# ---- W5: a small CNN step ---------------------------------------------------------------------------

def w5(lib) -> Runner:
    nn, F = lib.nn, lib.nn.functional
    rng = np.random.RandomState(0)
    x = lib.tensor(rng.rand(64, 1, 8, 8).astype(np.float32))
    y = lib.tensor(rng.randint(0, 10, 64))
    conv, fc = nn.Conv2d(1, 16, 3, padding=1), nn.Linear(256, 10)
    with lib.no_grad():
        for p in list(conv.parameters()) + list(fc.parameters()):
            p.copy_(lib.tensor(rng.uniform(-0.2, 0.2, tuple(p.shape)).astype(np.float32)))

    def loss():
        h = F.max_pool2d(F.relu(conv(x)), 2)
        return F.cross_entropy(fc(h.flatten(1)), y)

    def step():
        loss().backward()
        for p in list(conv.parameters()) + list(fc.parameters()):
            p.grad = None
    return Runner(step, lambda: float(loss().item()))


def w5_numpy() -> Runner:
    rng = np.random.RandomState(0)
    x = rng.rand(64, 1, 8, 8).astype(np.float32)
    y = rng.randint(0, 10, 64)
    Wc = rng.uniform(-0.2, 0.2, (16, 1, 3, 3)).astype(np.float32)
    bc = rng.uniform(-0.2, 0.2, 16).astype(np.float32)
    Wf = rng.uniform(-0.2, 0.2, (10, 256)).astype(np.float32)
    bf = rng.uniform(-0.2, 0.2, 10).astype(np.float32)
    eye = np.eye(10, dtype=np.float32)
    out = {}

    def forward():
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        win = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))  # n,1,8,8,3,3
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(64 * 64, 9)
        h = (cols @ Wc.reshape(16, 9).T + bc).reshape(64, 8, 8, 16).transpose(0, 3, 1, 2)
        r = np.maximum(h, 0)
        pooled = r.reshape(64, 16, 4, 2, 4, 2).max(axis=(3, 5))
        z = pooled.reshape(64, 256) @ Wf.T + bf
        return cols, h, r, pooled, z

    def step():
        cols, h, r, pooled, z = forward()
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        gz = (p - eye[y]) / 64
        out["gWf"], out["gbf"] = gz.T @ pooled.reshape(64, 256), gz.sum(0)
        gp = (gz @ Wf).reshape(64, 16, 4, 1, 4, 1)
        mask = r.reshape(64, 16, 4, 2, 4, 2) == pooled.reshape(64, 16, 4, 1, 4, 1)
        gh = (gp * mask).reshape(64, 16, 8, 8) * (h > 0)
        ghc = gh.transpose(0, 2, 3, 1).reshape(64 * 64, 16)
        out["gWc"], out["gbc"] = (ghc.T @ cols).reshape(16, 1, 3, 3), ghc.sum(0)

    def check():
        z = forward()[4]
        z = z - z.max(1, keepdims=True)
        return float(-(z[np.arange(64), y] - np.log(np.exp(z).sum(1))).mean())
    return Runner(step, check)


WORKLOADS = [
    Workload("W1", "course regression, time per epoch", "≤ 0.3× torch, ≤ 1.5× numpy", w1, w1_numpy, inner=100),
    Workload("W2a", "((x*w+b).tanh()*2).sum().backward(), 16 elements", "≤ 0.3× torch", w2a, w2a_numpy, inner=200),
    Workload("W2b", "a + b, 16 elements, grad mode on", "≤ 1.0× torch", lambda lib: w2b(lib, True), w2b_numpy, inner=2000),
    Workload("W2b'", "a + b, 16 elements, under no_grad", "≤ 1.0× torch", lambda lib: w2b(lib, False), w2b_numpy, inner=2000),
    Workload("W3", "MLP 64-128-10 on digits, SGD, batch 64, per epoch", "≤ 0.8× torch", w3, w3_numpy, inner=2),
    Workload("W4", "relu(A @ B).sum().backward(), 1024², A requires grad", "≤ 1.1× numpy", w4, w4_numpy, inner=1),
    Workload("W5", "CNN conv 1→16 k3, ReLU, maxpool, linear, CE: fwd+bwd", "≤ 1.3× torch", w5, w5_numpy, inner=20),
]
