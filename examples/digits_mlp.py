"""A multilayer perceptron on scikit-learn's 8×8 digits: 64 → 128 → 64 → 10 with ReLU and dropout, Adam.

    python examples/digits_mlp.py [--quick] [--torch] [--plot mlp_loss.png]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _digits  # noqa: E402

args = _digits.parse_args(__doc__.splitlines()[0])
torch = _digits.library(args.torch)
nn = torch.nn

model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
print(model)
train_loader, test_loader = _digits.load(torch, images=False)
optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
epochs = args.epochs or (8 if args.quick else 30)
curve = _digits.train(torch, model, train_loader, optimizer, epochs, progress=not args.no_progress)
_digits.plot(curve, args.plot, "digits MLP")
print(f"final training loss: {curve[-1]:.4f}")
print(f"test accuracy: {100 * _digits.accuracy(torch, model, test_loader):.2f} %")
