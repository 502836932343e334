"""A seeded tutorial: the numbers on screen are PyTorch's numbers.

manual_seed, random data, an MLP with default initialisation, a shuffled DataLoader, Dropout in
training mode, 3 epochs of SGD. Every random draw equals PyTorch's, so the printed losses do too:

    python examples/seeded_tutorial.py           # flambeau
    python examples/seeded_tutorial.py --torch   # the very same script under PyTorch
"""

import sys

if "--torch" in sys.argv:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
else:
    import flambeau as torch
    from flambeau import nn
    from flambeau.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
X = torch.randn(96, 8)
y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
print("first sample:", X[0])

model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
print("first weights:", model[0].weight[0])
loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

model.train()
for epoch in range(3):
    total = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(xb)
    print(f"epoch {epoch + 1}: loss = {total / len(X):.6f}")
