"""What the two digits examples share: data, the training loop, evaluation, the loss curve.

scikit-learn's bundled 8×8 digits (1797 images, no download), scaled to [0, 1], split 80/20 with a fixed seed.
"""

from __future__ import annotations

import argparse

import numpy as np


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--torch", action="store_true", help="run under PyTorch instead of flambeau")
    parser.add_argument("--quick", action="store_true", help="a short run (CI)")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--plot", default=None, help="where to write the loss-curve PNG (needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    return parser.parse_args()


def library(use_torch: bool):
    if use_torch:
        import torch
    else:
        import flambeau as torch
    if hasattr(torch, "manual_seed"):
        torch.manual_seed(0)
    return torch


def load(torch, images: bool, batch_size: int = 64):
    """Train and test DataLoaders over (image or flat vector, label) pairs."""
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.images if images else digits.data).astype(np.float32) / 16.0
    if images:
        x = x[:, None]  # (N, 1, 8, 8)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    cut = int(0.8 * len(x))
    train, test = order[:cut], order[cut:]
    data = torch.utils.data
    make = lambda idx, shuffle: data.DataLoader(data.TensorDataset(torch.tensor(x[idx]), torch.tensor(y[idx])), batch_size=batch_size,
                                                shuffle=shuffle)
    return make(train, True), make(test, False)


def _progress(iterable, enabled: bool, **kw):
    if enabled:
        try:
            from tqdm import tqdm
            return tqdm(iterable, **kw)
        except ImportError:
            pass
    return iterable


def train(torch, model, train_loader, optimizer, epochs: int, progress: bool = True, scheduler=None) -> list[float]:
    """Minimise cross-entropy (stepping ``scheduler`` after each batch, if given); returns the mean training loss of each epoch."""
    loss_fn = torch.nn.CrossEntropyLoss()
    curve = []
    bar = _progress(range(epochs), progress, desc="epochs")
    for _ in bar:
        model.train()
        total, n = 0.0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(yb)
            n += len(yb)
        curve.append(total / n)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{curve[-1]:.4f}")
    return curve


def accuracy(torch, model, loader) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for xb, yb in loader:
            pred = np.argmax(model(xb).numpy(), axis=1)
            correct += int((pred == yb.numpy()).sum())
            total += len(yb)
    return correct / total


def plot(curve: list[float], path: str | None, title: str) -> None:
    if path is None:
        return
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("matplotlib is not installed: no loss curve")
        return
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(range(1, len(curve) + 1), curve, marker="o")
    ax.set(xlabel="epoch", ylabel="training loss", title=title, yscale="log")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path)
    print(f"loss curve written to {path}")
