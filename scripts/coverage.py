"""How much of PyTorch's op library flambeau provides.

Reads ``scripts/op_scope.txt`` (``torch.xxx`` / ``torch.linalg.xxx`` functions and ``Tensor.xxx`` methods, one per
line, grouped under ``# family`` comments), checks each name on ``flambeau`` / ``flambeau.Tensor``, prints the
missing ones per family and the count ``N/M``. Needs only flambeau (and NumPy), not PyTorch::

    python scripts/coverage.py            # missing names per family, then e.g. "op library coverage: 412/696"
    python scripts/coverage.py --count    # only "412/696"
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

import flambeau  # noqa: E402


def scope(path: str) -> dict:
    """``{family: [names]}`` from the scope file."""
    families: dict = {}
    family = "other"
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                family = line[1:].strip() if line[1:].strip().isidentifier() else family
            elif line:
                families.setdefault(family, []).append(line)
    return families


def provided(name: str) -> bool:
    """Whether ``torch.a.b`` exists as ``flambeau.a.b``, or ``Tensor.x`` as ``flambeau.Tensor.x``."""
    owner, _, rest = name.partition(".")
    obj = flambeau.Tensor if owner == "Tensor" else flambeau
    for part in rest.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True


def main(argv: list) -> int:
    families = scope(os.path.join(ROOT, "scripts", "op_scope.txt"))
    total = have = 0
    lines = []
    for family, names in families.items():
        missing = [n for n in names if not provided(n)]
        total += len(names)
        have += len(names) - len(missing)
        lines.append(f"{family}: {len(names) - len(missing)}/{len(names)}")
        if missing:
            lines.append("  missing: " + " ".join(missing))
    if "--count" in argv:
        print(f"{have}/{total}")
    else:
        print("\n".join(lines))
        print(f"op library coverage: {have}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
