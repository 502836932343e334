"""Capture PyTorch's output of the example scripts compared line by line (tests/test_scripts_vs_torch.py).

Run from the repository root with torch installed:  python tests/golden/make_script_golden.py
"""

import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SCRIPTS = ("course_autograd", "seeded_tutorial")

for name in SCRIPTS:
    out = subprocess.check_output([sys.executable, os.path.join(ROOT, "examples", f"{name}.py"), "--torch"], text=True)
    with open(os.path.join(os.path.dirname(__file__), f"{name}.txt"), "w") as f:
        f.write(out)
    print(f"{name}: {len(out.splitlines())} lines")
