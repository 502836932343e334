"""The nn/optim/data examples run end to end (short settings) and learn."""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _run(script, *args):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", script), *args], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_regression_nn():
    out = _run("regression_nn.py")
    pred = float(re.search(r"Prediction after training: f\(5\) = ([\d.]+)", out).group(1))
    assert abs(pred - 10.0) < 0.1
    assert "Linear(in_features=1, out_features=1, bias=True)" in out


@pytest.mark.parametrize("script, threshold", [("digits_mlp.py", 95.0), ("digits_cnn.py", 97.0)])
def test_digits(script, threshold, tmp_path):
    pytest.importorskip("sklearn")
    plot = tmp_path / "loss.png"
    out = _run(script, "--quick", "--no-progress", "--plot", str(plot))
    acc = float(re.search(r"test accuracy: ([\d.]+) %", out).group(1))
    assert acc >= threshold, out
    try:
        import matplotlib  # noqa: F401
        assert plot.stat().st_size > 0
    except ImportError:
        assert "matplotlib is not installed" in out
