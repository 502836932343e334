"""``python -m flambeau tour [--lang fr]``: the course's autograd walkthrough, in one run, in the terminal.

It shows tensors being followed, the recorded graph drawn as text, the backward pass explained step
by step, a small training log, and two errors that teach. No dependency beyond NumPy, no random numbers.
"""

from __future__ import annotations

import argparse
import warnings

import flambeau as torch

from ._messages import get_language, msg, set_language


def _section(title: str) -> None:
    print()
    print(title)
    print("─" * min(len(title), 100))


def tour(lang: str | None = None) -> None:
    """Run the walkthrough, printing as it goes (in ``lang``, default: the current language)."""
    previous = get_language()
    set_language(lang or previous)
    try:
        _tour()
    finally:
        set_language(previous)


def _tour() -> None:
    print(msg("tour.title"))

    _section(msg("tour.tensors"))
    x = torch.tensor([1., 2., 3.], requires_grad=True)
    y = x + 2
    z = y * y * 3
    print(">>> x = torch.tensor([1., 2., 3.], requires_grad=True)")
    print(x)
    print(">>> y = x + 2")
    print(y)
    print(">>> z = y * y * 3")
    print(z)
    z = z.mean()
    print(">>> z = z.mean()")
    print(z)

    _section(msg("tour.graph"))
    print(torch.viz.graph(z, params={"x": x, "y": y, "z": z}, show_saved=True))

    _section(msg("tour.backward"))
    with torch.autograd.explain(names={"x": x, "y": y, "z": z}) as steps:
        z.backward()
    print(steps)
    print()
    print(msg("tour.check", expected=(2 * (x.detach() + 2)).tolist(), got=x.grad.tolist()))

    _section(msg("tour.training"))
    X = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8], dtype=torch.float32)
    Y = torch.tensor([2, 4, 6, 8, 10, 12, 14, 16], dtype=torch.float32)
    W = torch.tensor(0.0, dtype=torch.float32, requires_grad=True)
    print(">>> for epoch in range(100): l = ((W * X - Y) ** 2).mean(); l.backward(); "
          "with torch.no_grad(): W -= 0.01 * W.grad; W.grad.zero_()")
    for epoch in range(100):
        loss = ((W * X - Y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            W -= 0.01 * W.grad
        W.grad.zero_()
        if (epoch + 1) % 10 == 0:
            print(msg("tour.epoch", epoch=epoch + 1, w=W.item(), loss=loss.item()))
    print(msg("tour.prediction", value=(W * 5).item()))

    _section(msg("tour.errors"))
    watching = torch.autograd.is_detect_pitfalls_enabled()
    print(">>> torch.autograd.set_detect_pitfalls(True)")
    torch.autograd.set_detect_pitfalls(True)  # the watch also lets the freed-graph error name the line that freed it
    try:
        _tour_errors(X, Y)
    finally:
        torch.autograd.set_detect_pitfalls(watching)
    print()
    print(msg("tour.end"))


def _tour_errors(X, Y) -> None:
    x = torch.tensor([1., 2., 3.], requires_grad=True)
    z = ((x + 2) * (x + 2) * 3).mean()
    print(">>> z.backward(); z.backward()")
    z.backward()
    try:
        z.backward()
    except RuntimeError as e:
        print(f"RuntimeError: {e}")
    print()
    print(">>> for _ in range(2):   # a training step without w.grad.zero_()")
    print("...     (w * w).sum().backward()")
    print("...     with torch.no_grad(): w -= 0.1 * w.grad")
    w = torch.tensor([1., 2., 3.], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            (w * w).sum().backward()
            print(f"w.grad = {[round(v, 4) for v in w.grad.tolist()]}")
            with torch.no_grad():
                w -= 0.1 * w.grad
    _show(caught)
    print()
    print(">>> W = W - 0.01 * W.grad; W.grad")
    W = torch.tensor(0.0, requires_grad=True)
    ((W * X - Y) ** 2).mean().backward()
    W = W - 0.01 * W.grad
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        W.grad  # noqa: B018  (the access is what warns)
    _show(caught)


def _show(caught: list) -> None:
    for w in caught:
        print(f"{w.category.__name__}: {w.message}")


def main(argv: list | None = None) -> int:
    """The command line: ``python -m flambeau tour [--lang fr]``."""
    parser = argparse.ArgumentParser(prog="python -m flambeau", description="flambeau: PyTorch's autograd in pure Python on NumPy")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("tour", help="the course's autograd walkthrough, in the terminal")
    p.add_argument("--lang", choices=("en", "fr"), default=None, help="language of the explanations (default: FLAMBEAU_LANG or en)")
    args = parser.parse_args(argv)
    tour(args.lang)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
