import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
sys.path.insert(0, os.path.dirname(__file__))

if os.environ.get("CI"):
    # In CI the comparison suite must run: a missing PyTorch fails the run here rather than skipping the files that need it.
    import torch  # noqa: F401
