"""Capture PyTorch's output of examples/course_autograd.py into tests/golden/course_autograd.txt.

Run from the repository root with torch installed:  python tests/golden/make_course_golden.py
"""

import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
out = subprocess.check_output([sys.executable, os.path.join(ROOT, "examples", "course_autograd.py"), "--torch"], text=True)
with open(os.path.join(os.path.dirname(__file__), "course_autograd.txt"), "w") as f:
    f.write(out)
print(out)
