"""nn.utils vs PyTorch: gradient clipping and parameter/vector conversion."""

import numpy as np
import pytest
import torch

import flambeau

RNG = np.random.default_rng(2)
GRADS = [RNG.standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (4,), (2, 2)]]


def _params(lib, with_grads=True):
    ps = [lib.nn.Parameter(lib.zeros(*g.shape)) for g in GRADS]
    if with_grads:
        for p, g in zip(ps, GRADS):
            p.grad = lib.tensor(g.copy())
    return ps


@pytest.mark.parametrize("max_norm, norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1), (2.0, float("inf")), (1.0, 3.0)])
def test_clip_grad_norm(max_norm, norm_type):
    ours, theirs = _params(flambeau), _params(torch)
    n_ours = flambeau.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(n_ours.numpy(), n_theirs.numpy(), rtol=1e-6)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_nonfinite_and_empty():
    ps = _params(flambeau)
    ps[0].grad = flambeau.full((3, 4), float("inf"))
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        flambeau.nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert flambeau.nn.utils.clip_grad_norm_(_params(flambeau, with_grads=False), 1.0).item() == 0.0


def test_clip_grad_value():
    ours, theirs = _params(flambeau), _params(torch)
    flambeau.nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_parameters_vector_round_trip():
    lin, tlin = flambeau.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    lin.load_state_dict({k: flambeau.tensor(v.detach().numpy().copy()) for k, v in tlin.state_dict().items()})
    vec = flambeau.nn.utils.parameters_to_vector(lin.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), torch.nn.utils.parameters_to_vector(tlin.parameters()).detach().numpy())
    assert vec.requires_grad and vec.shape == (8,)
    flambeau.nn.utils.vector_to_parameters(flambeau.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    assert isinstance(lin.weight, flambeau.nn.Parameter) and lin.weight.requires_grad
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        flambeau.nn.utils.vector_to_parameters([1.0], lin.parameters())
