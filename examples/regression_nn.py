"""The course's linear regression, rewritten with ``nn.Linear``, ``nn.MSELoss`` and ``optim.SGD``.

    python examples/regression_nn.py            # flambeau
    python examples/regression_nn.py --torch    # the same script under PyTorch
    python examples/regression_nn.py --quick    # fewer epochs (CI)
"""

import argparse

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--torch", action="store_true", help="run under PyTorch instead of flambeau")
parser.add_argument("--quick", action="store_true", help="a short run")
args = parser.parse_args()

if args.torch:
    import torch
    import torch.nn as nn
else:
    import flambeau as torch
    import flambeau.nn as nn

if hasattr(torch, "manual_seed"):
    torch.manual_seed(0)

# f(x) = 2x, samples as a column: (n_samples, n_features)
X = torch.tensor([[1], [2], [3], [4], [5], [6], [7], [8]], dtype=torch.float32)
Y = torch.tensor([[2], [4], [6], [8], [10], [12], [14], [16]], dtype=torch.float32)
X_test = torch.tensor([[5]], dtype=torch.float32)
n_samples, n_features = X.shape

model = nn.Linear(n_features, n_features)
print(model)
print(f"Prediction before training: f(5) = {model(X_test).item():.3f}")

learning_rate = 0.01
n_epochs = 100 if args.quick else 1000
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

for epoch in range(n_epochs):
    loss = loss_fn(Y, model(X))
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    if (epoch + 1) % (n_epochs // 10) == 0:
        w, b = model.parameters()
        print(f"epoch {epoch + 1}: w = {w[0][0].item():.3f}, b = {b[0].item():.3f}, loss = {loss.item():.8f}")

print(f"Prediction after training: f(5) = {model(X_test).item():.3f}")
