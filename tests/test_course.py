"""The course walkthrough prints what PyTorch prints, line for line (object addresses aside)."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
SCRIPT = os.path.join(ROOT, "examples", "course_autograd.py")


def _run(*args: str) -> list:
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}
    out = subprocess.check_output([sys.executable, SCRIPT, *args], text=True, env=env)
    return [re.sub(r"0x[0-9a-f]+", "0x…", line).replace("flambeau.", "torch.") for line in out.splitlines()]


def test_course_matches_golden_output_from_pytorch():
    with open(os.path.join(ROOT, "tests", "golden", "course_autograd.txt")) as f:
        golden = [re.sub(r"0x[0-9a-f]+", "0x…", line) for line in f.read().splitlines()]
    ours = _run()
    assert len(ours) == len(golden)
    for i, (a, b) in enumerate(zip(ours, golden)):
        assert a == b, f"line {i + 1}: {a!r} != {b!r}"


@pytest.mark.skipif(importlib.util.find_spec("torch") is None and not os.environ.get("CI"), reason="torch not installed")
def test_course_matches_live_pytorch():
    assert _run() == _run("--torch")
