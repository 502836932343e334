"""Step-by-step backward: what the engine visits, with the formulas of the ops' own rows and the values."""

import numpy as np
import torch

import flambeau as fl
from flambeau.autograd import engine

COURSE_STEPS = """\
Backward, step by step (5 steps): the chain rule, from the output back to the leaves

Step 1: MeanBackward0  (z)
    gradient arriving  ∂ℒ/∂out = 1
    saved in forward   shape = (3,)
    local derivative   ∂(mean x)/∂xᵢ = 1/n
    gradient leaving → MulBackward0: [0.3333, 0.3333, 0.3333]

Step 2: MulBackward0
    gradient arriving  ∂ℒ/∂out = [0.3333, 0.3333, 0.3333]
    saved in forward   b = 3
    local derivative   ∂(a·b)/∂a = b
    gradient leaving → a = MulBackward0: [1, 1, 1]

Step 3: MulBackward0
    gradient arriving  ∂ℒ/∂out = [1, 1, 1]
    saved in forward   a = [3, 4, 5], b = [3, 4, 5]
    local derivative   ∂(a·b)/∂a = b
    gradient leaving → a = AddBackward0 (y): [3, 4, 5]
    local derivative   ∂(a·b)/∂b = a
    gradient leaving → b = AddBackward0 (y): [3, 4, 5]

Step 4: AddBackward0  (y)
    gradient arriving  ∂ℒ/∂out = [6, 8, 10]
    local derivative   ∂(a+b)/∂a = 1
    gradient leaving → a = x: [6, 8, 10]

Step 5: AccumulateGrad  (x)
    x.grad += [6, 8, 10]   →   x.grad = [6, 8, 10]"""

COURSE_STEPS_FR_START = """\
La rétropropagation pas à pas (5 étapes) : la règle de la chaîne, de la sortie vers les feuilles

Étape 1 : MeanBackward0  (z)
    gradient qui arrive  ∂ℒ/∂sortie = 1
    sauvé en avant     shape = (3,)
    dérivée locale     ∂(mean x)/∂xᵢ = 1/n
    gradient qui part → MulBackward0 : [0.3333, 0.3333, 0.3333]
"""

MLP_STEPS = """\
Backward, step by step (8 steps): the chain rule, from the output back to the leaves

Step 1: SumBackward0  (loss)
    gradient arriving  ∂ℒ/∂out = 1
    saved in forward   shape = (2, 1)
    local derivative   ∂(Σx)/∂xᵢ = 1
    gradient leaving → MmBackward0 (out): [[1], [1]]

Step 2: MmBackward0  (out)
    gradient arriving  ∂ℒ/∂out = [[1], [1]]
    saved in forward   a = [[0, 0, 2.2], [2.6, 0, 0]], b = [[1], [-2], [0.5]]
    local derivative   ∂(A·B)/∂A = g·Bᵀ
    gradient leaving → a = ReluBackward0 (h): [[1, -2, 0.5], [1, -2, 0.5]]
    local derivative   ∂(A·B)/∂B = Aᵀ·g
    gradient leaving → b = W2: [[2.6], [0], [2.2]]

Step 3: AccumulateGrad  (W2)
    W2.grad += [[2.6], [0], [2.2]]   →   W2.grad = [[2.6], [0], [2.2]]

Step 4: ReluBackward0  (h)
    gradient arriving  ∂ℒ/∂out = [[1, -2, 0.5], [1, -2, 0.5]]
    saved in forward   out = [[0, 0, 2.2], [2.6, 0, 0]]
    local derivative   ∂relu(x)/∂x = [x > 0]
    gradient leaving → AddBackward0: [[0, 0, 0.5], [1, 0, 0]]

Step 5: AddBackward0
    gradient arriving  ∂ℒ/∂out = [[0, 0, 0.5], [1, 0, 0]]
    saved in forward   alpha = 1
    local derivative   ∂(a+b)/∂a = 1
    gradient leaving → a = MmBackward0: [[0, 0, 0.5], [1, 0, 0]]
    local derivative   ∂(a+b)/∂b = 1
    gradient leaving → b = b1: [[0, 0, 0.5], [1, 0, 0]]  (summed over the broadcast dimensions to shape [3] on arrival)

Step 6: AccumulateGrad  (b1)
    b1.grad += [1, 0, 0.5]   →   b1.grad = [1, 0, 0.5]

Step 7: MmBackward0
    gradient arriving  ∂ℒ/∂out = [[0, 0, 0.5], [1, 0, 0]]
    saved in forward   a = [[1, -2], [0.5, 1]]
    local derivative   ∂(A·B)/∂B = Aᵀ·g
    gradient leaving → b = W1: [[0.5, 0, 0.5], [1, 0, -1]]

Step 8: AccumulateGrad  (W1)
    W1.grad += [[0.5, 0, 0.5], [1, 0, -1]]   →   W1.grad = [[0.5, 0, 0.5], [1, 0, -1]]"""

MLP_DATA = dict(X=[[1., -2.], [0.5, 1.]], W1=[[1., -1., 0.5], [2., 0., -1.]], b1=[0.1, 0.2, -0.3], W2=[[1.], [-2.], [0.5]])


def test_course_example_unrolled():
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    y = x + 2
    z = (y * y * 3).mean()
    with fl.autograd.explain() as steps:
        z.backward()
    assert str(steps) == COURSE_STEPS
    assert [s.name for s in steps] == ["MeanBackward0", "MulBackward0", "MulBackward0", "AddBackward0", "AccumulateGrad"]
    assert x.grad.tolist() == [6., 8., 10.] and steps[-1].total.tolist() == [6., 8., 10.]


def test_each_step_checks_by_hand():
    """Every gradient leaving a step is the arriving gradient times the local derivative, with the saved values."""
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    y = x + 2
    z = (y * y * 3).mean()
    with fl.autograd.explain() as steps:
        z.backward()
    mean, mul3, mulyy, add, acc = steps
    np.testing.assert_allclose(mean.grads_out[0], np.full(3, 1 / 3), rtol=1e-6)
    np.testing.assert_allclose(mul3.grads_out[0], mul3.grads_in[0] * dict(mul3.saved)["b"], rtol=1e-6)
    np.testing.assert_allclose(mulyy.grads_out[0], mulyy.grads_in[0] * dict(mulyy.saved)["b"], rtol=1e-6)
    np.testing.assert_allclose(add.grads_in[0], mulyy.grads_out[0] + mulyy.grads_out[1])
    assert acc.grads_in[0].tolist() == add.grads_out[0].tolist() == [6., 8., 10.]


def test_course_example_in_french():
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    y = x + 2
    z = (y * y * 3).mean()
    with fl.autograd.explain() as steps:
        z.backward()
    fl.set_language("fr")
    try:
        text = str(steps)
    finally:
        fl.set_language("en")
    assert text.startswith(COURSE_STEPS_FR_START)
    assert text.endswith("Étape 5 : AccumulateGrad  (x)\n    x.grad += [6, 8, 10]   →   x.grad = [6, 8, 10]")


def test_mlp_steps_and_gradients_match_torch():
    X, W1, b1, W2 = (fl.tensor(np.array(v), requires_grad=k != "X") for k, v in MLP_DATA.items())
    h = fl.relu(X @ W1 + b1)
    out = h @ W2
    loss = out.sum()
    with fl.autograd.explain() as steps:
        loss.backward()
    assert str(steps) == MLP_STEPS
    tX, tW1, tb1, tW2 = (torch.tensor(v, dtype=torch.float64, requires_grad=k != "X") for k, v in MLP_DATA.items())
    (torch.relu(tX @ tW1 + tb1) @ tW2).sum().backward()
    for p, tp in ((W1, tW1), (b1, tb1), (W2, tW2)):
        (step,) = [s for s in steps if s.name == "AccumulateGrad" and s.node.variable is p]
        np.testing.assert_allclose(step.total, tp.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(p.grad._data, tp.grad.numpy(), rtol=1e-12)


def test_names_can_be_given():
    a = fl.tensor([1., 2.], requires_grad=True)
    with fl.autograd.explain(names={"weight": a}) as steps:
        (a * a).sum().backward()
    assert "Step 3: AccumulateGrad  (weight)" in str(steps) and "weight.grad = [2, 4]" in str(steps)


def test_recording_is_off_outside_explain_and_changes_nothing():
    assert engine.RECORDERS == []
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    (x.exp() * x).sum().backward()
    plain = x.grad.tolist()
    x.grad = None
    with fl.autograd.explain() as steps:
        assert len(engine.RECORDERS) == 1
        (x.exp() * x).sum().backward()
    assert engine.RECORDERS == []
    assert x.grad.tolist() == plain and len(steps) == 4


def test_create_graph_and_large_values():
    x = fl.tensor(np.arange(20.), requires_grad=True)
    with fl.autograd.explain() as steps:
        (x * x).sum().backward(create_graph=True)
    text = str(steps)
    assert "shape [20] [0, 2, 4, 6, …]" in text
    np.testing.assert_allclose(steps[-1].total, 2 * np.arange(20.))


def test_custom_function_steps_say_where_the_derivative_comes_from():
    class Cube(fl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = fl.tensor([1., 2.], requires_grad=True)
    y = Cube.apply(x)
    with fl.autograd.explain() as steps:
        y.sum().backward()
    text = str(steps)
    assert "Step 2: CubeBackward  (y)" in text and "saved 0 = [1, 2]" in text
    assert "local derivative   given by Cube.backward() (a custom Function)" in text and "x.grad = [3, 12]" in text
