"""Write ``src/flambeau/_not_implemented.py``: the public names of PyTorch 2.13's namespaces that flambeau lacks.

Reaching one of them (``torch.fft``, ``x.stft``, ``nn.Transformer``) raises ``NotImplementedError`` naming it, rather
than an ``AttributeError`` that reads like a typo. Regenerate after adding features (needs PyTorch):

    python scripts/missing_names.py            (--stdout prints it instead)
"""

from __future__ import annotations

import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

import torch  # noqa: E402

import flambeau  # noqa: E402

#: namespace name (as written after ``torch.``) -> dotted attribute path below ``torch`` / ``flambeau``
NAMESPACES = ["", "Tensor", "nn", "nn.functional", "nn.init", "nn.utils", "special", "linalg", "optim", "optim.lr_scheduler",
              "autograd", "utils.data", "func"]


def resolve(root, path: str):
    for part in filter(None, path.split(".")):
        root = getattr(root, part)
    return root


def is_public(obj, namespace: str) -> bool:
    """A name PyTorch offers to users (not a typing helper or a C++ binding class imported into the namespace)."""
    if namespace == "Tensor":
        return True
    if isinstance(obj, types.ModuleType):
        return obj.__name__.startswith("torch.")
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("torch"):
        return False
    return not (isinstance(obj, type) and module.startswith("torch._C"))


def missing(namespace: str) -> list[str]:
    theirs, ours = resolve(torch, namespace), resolve(flambeau, namespace)
    return sorted(n for n in dir(theirs) if not n.startswith("_") and is_public(getattr(theirs, n), namespace) and not hasattr(ours, n))


def main() -> None:
    lines = ['"""Public names of PyTorch 2.13 that flambeau does not have, per namespace (written by scripts/missing_names.py)."""', "",
             "NAMES = {"]
    for ns in NAMESPACES:
        names = missing(ns)
        lines.append(f"    {ns!r}: frozenset({{")
        row = "       "
        for n in names:
            item = f" {n!r},"
            if len(row) + len(item) > 140:
                lines.append(row)
                row = "       "
            row += item
        if names:
            lines.append(row)
        lines.append("    }),")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    if "--stdout" in sys.argv:  # what would be written (the tests compare it with the committed file)
        sys.stdout.write(text)
        return
    path = os.path.join(HERE, "..", "src", "flambeau", "_not_implemented.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{path}: {sum(len(missing(ns)) for ns in NAMESPACES)} names")


if __name__ == "__main__":
    main()
