"""A small convolutional network on scikit-learn's 8×8 digits: two conv/ReLU/max-pool stages, then two linear layers.

    python examples/digits_cnn.py [--quick] [--torch] [--plot cnn_loss.png]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import _digits  # noqa: E402

args = _digits.parse_args(__doc__.splitlines()[0])
torch = _digits.library(args.torch)
nn = torch.nn

model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),  # 32 × 4 × 4
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 64 × 2 × 2
    nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 2 * 2, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
)
print(model)
train_loader, test_loader = _digits.load(torch, images=True)
epochs = args.epochs or (4 if args.quick else 30)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-3)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, epochs=epochs, steps_per_epoch=len(train_loader))
curve = _digits.train(torch, model, train_loader, optimizer, epochs, progress=not args.no_progress, scheduler=scheduler)
_digits.plot(curve, args.plot, "digits CNN")
print(f"final training loss: {curve[-1]:.4f}")
print(f"test accuracy: {100 * _digits.accuracy(torch, model, test_loader):.2f} %")
