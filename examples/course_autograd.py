"""The course « Introduction à PyTorch : AutoGrad », cell by cell, on flambeau.

Every code cell of the course runs here in order, with ``import flambeau as torch`` in place of
its truncated ``import tor``; then the course's warnings are shown happening. The output is what
PyTorch prints for the same script (object addresses aside):

    python examples/course_autograd.py           # flambeau
    python examples/course_autograd.py --torch   # the very same script under PyTorch
"""

import sys
import warnings

if "--torch" in sys.argv:
    import torch
else:
    import flambeau as torch


def cell(title: str) -> None:
    print(f"\n# --- {title} ---")


# ---- Cell 1-2: a tensor that is followed -------------------------------------------------------
cell("suivre un tenseur")
x = torch.tensor([1., 2., 3.], requires_grad=True)
y = x + 2
print(x)
print(y)
print(y.grad_fn)
z = y * y * 3
print(z)
z = z.mean()
print(z)

# ---- Cell 3: backward ------------------------------------------------------------------------------
cell("backward")
print(x.grad)
z.backward()
print(x.grad)

# ---- Cell 4: taking tensors out of autograd ----------------------------------------------------
cell("retirer les tenseurs de l'autoGrad")
x = torch.randn(3, requires_grad=True)
print(x.requires_grad)
x.requires_grad_(False)
print(x.requires_grad)
x = torch.randn(3, requires_grad=True)
with torch.no_grad():
    print((x ** 2).requires_grad)

# ---- Cells 5-7: linear regression ------------------------------------------------------------------
cell("régression linéaire")
X = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8], dtype=torch.float32)
Y = torch.tensor([2, 4, 6, 8, 10, 12, 14, 16], dtype=torch.float32)
W = torch.tensor(0.0, dtype=torch.float32, requires_grad=True)


def forward(x):
    return W * x


def loss(y, y_predicted):
    return ((y_predicted - y) ** 2).mean()


learning_rate = 0.01
n_epoch = 100
for epoch in range(n_epoch):
    y_pred = forward(X)
    l = loss(Y, y_pred)
    l.backward()
    with torch.no_grad():
        W -= learning_rate * W.grad
    W.requires_grad_(True)
    W.grad.zero_()
    if (epoch + 1) % 10 == 0:
        print(f'epoch {epoch+1}: w = {W:.3f}, loss = {l:.8f}')
print(f'Prediction after training: f(5) = {forward(5):.3f}')

# ---- The course's warnings, shown happening -------------------------------------------------------
cell("remarque : deux backward sur le même graphe")
x = torch.tensor([1., 2., 3.], requires_grad=True)
z = ((x + 2) * (x + 2) * 3).mean()
z.backward()
try:
    z.backward()
except RuntimeError as e:
    print("RuntimeError:", str(e).split("\n\n")[0])  # PyTorch's text; flambeau explains after a blank line (see `python -m flambeau tour`)

cell("remarque : les gradients s'accumulent tant qu'on ne les remet pas à zéro")
w = torch.tensor([1., 2., 3.], requires_grad=True)
for step in range(2):
    (w * 2).sum().backward()
    print(f"after backward {step + 1}: {w.grad}")
w.grad.zero_()
print("after zero_():", w.grad)

cell("remarque : W = W - lr * W.grad casse la feuille")
W = torch.tensor(0.0, requires_grad=True)
((W * X - Y) ** 2).mean().backward()
W = W - learning_rate * W.grad
print(W)
print("is_leaf:", W.is_leaf)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("W.grad:", W.grad)
for w_ in caught:
    print(f"{w_.category.__name__}: {str(w_.message).split(' (Triggered')[0].split(chr(10) * 2)[0]}")
