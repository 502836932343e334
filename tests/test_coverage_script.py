"""scripts/coverage.py: its scope list names real PyTorch API, and it counts what flambeau provides."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCOPE = os.path.join(ROOT, "scripts", "op_scope.txt")


def _names() -> list:
    with open(SCOPE, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def test_scope_names_exist_in_pytorch():
    torch = pytest.importorskip("torch")
    names = _names()
    assert len(names) == len(set(names))
    for name in names:
        owner, _, rest = name.partition(".")
        obj = torch.Tensor if owner == "Tensor" else torch
        assert owner in ("torch", "Tensor"), name
        for part in rest.split("."):
            assert hasattr(obj, part), name
            obj = getattr(obj, part)


def test_count_matches_flambeau():
    import flambeau
    expected = 0
    for name in _names():
        owner, _, rest = name.partition(".")
        obj = flambeau.Tensor if owner == "Tensor" else flambeau
        ok = True
        for part in rest.split("."):
            ok = ok and hasattr(obj, part)
            obj = getattr(obj, part, None)
        expected += ok
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "coverage.py")], capture_output=True, text=True, check=True).stdout
    assert re.search(rf"op library coverage: {expected}/{len(_names())}$", out.strip())
    missing = {n for line in out.splitlines() if line.startswith("  missing:") for n in line.split()[1:]}
    assert "torch.linalg.inv" not in missing and "Tensor.matmul" not in missing
    assert len(missing) == len(_names()) - expected
