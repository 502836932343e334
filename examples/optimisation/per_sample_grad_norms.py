"""Per-sample gradient norms of a small MLP with ``vmap(grad(loss))`` (as used for clipping in DP-SGD).

``grad(loss)`` differentiates the loss of ONE sample with respect to the parameter dict;
``vmap(..., in_dims=(None, 0, 0))`` maps it over the batch (parameters shared, data batched), so
every parameter's gradient gains a leading batch dimension. The result is checked against a
plain loop of ``autograd.grad`` calls. Run: ``python examples/optimisation/per_sample_grad_norms.py``.
"""

import numpy as np

import flambeau as torch
from flambeau.func import grad, vmap


def mlp(params: dict, x: torch.Tensor) -> torch.Tensor:
    h = (x @ params["w1"] + params["b1"]).tanh()
    return h @ params["w2"] + params["b2"]


def loss(params: dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((mlp(params, x) - y) ** 2).mean()


def main(batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    params = {"w1": torch.tensor(rng.standard_normal((4, 8)) * 0.5), "b1": torch.tensor(np.zeros(8)),
              "w2": torch.tensor(rng.standard_normal((8, 1)) * 0.5), "b2": torch.tensor(np.zeros(1))}
    x, y = torch.tensor(rng.standard_normal((batch, 4))), torch.tensor(rng.standard_normal((batch, 1)))

    per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
    norms = np.sqrt(sum((g.numpy().reshape(batch, -1) ** 2).sum(1) for g in per_sample.values()))

    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}  # the same, one sample at a time
    loop = []
    for i in range(batch):
        gs = torch.autograd.grad(loss(leaves, x[i], y[i]), list(leaves.values()))
        loop.append(np.sqrt(sum((g.numpy() ** 2).sum() for g in gs)))
    for i, (a, b) in enumerate(zip(norms, loop)):
        print(f"sample {i:2d}: |grad| = {a:.6f} (loop: {b:.6f})")
    return norms, np.array(loop)


if __name__ == "__main__":
    main()
