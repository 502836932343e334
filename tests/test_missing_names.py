"""PyTorch names flambeau lacks raise NotImplementedError naming them; other unknown names stay AttributeErrors."""

import os
import subprocess
import sys

import pytest

import flambeau
from flambeau._missing import NotImplementedInFlambeau
from flambeau._not_implemented import NAMES

HERE = os.path.dirname(os.path.abspath(__file__))


def _namespace(root, path: str):
    for part in filter(None, path.split(".")):
        root = getattr(root, part)
    return root


@pytest.mark.parametrize("namespace", sorted(NAMES))
def test_every_listed_name_is_missing_and_named(namespace):
    ns = _namespace(flambeau, namespace)
    for name in sorted(NAMES[namespace]):
        target = flambeau.ones(2) if namespace == "Tensor" else ns
        with pytest.raises(NotImplementedError) as e:
            getattr(target, name)
        assert str(e.value) == f"{'.'.join(filter(None, ('torch', namespace, name)))} is not implemented in flambeau"
        assert isinstance(e.value, AttributeError)  # hasattr / getattr(..., default) keep working
        assert not hasattr(target, name)


@pytest.mark.parametrize("target,message", [
    (lambda: flambeau, "module 'flambeau' has no attribute 'no_such_thing'"),
    (lambda: flambeau.ones(2), "'Tensor' object has no attribute 'no_such_thing'"),
    (lambda: flambeau.nn, "module 'flambeau.nn' has no attribute 'no_such_thing'"),
    (lambda: flambeau.nn.functional, "module 'flambeau.nn.functional' has no attribute 'no_such_thing'"),
])
def test_unknown_names_are_plain_attribute_errors(target, message):
    with pytest.raises(AttributeError) as e:
        target().no_such_thing  # noqa: B018
    assert not isinstance(e.value, NotImplementedInFlambeau) and str(e.value) == message


def test_the_list_is_current():
    """The committed list is what scripts/missing_names.py computes from PyTorch now (regenerate it after adding features)."""
    if not os.environ.get("CI"):
        pytest.importorskip("torch")
    path = os.path.join(HERE, "..", "src", "flambeau", "_not_implemented.py")
    now = subprocess.run([sys.executable, os.path.join(HERE, "..", "scripts", "missing_names.py"), "--stdout"], check=True,
                         capture_output=True, text=True).stdout
    assert now == open(path, encoding="utf-8").read(), "run: python scripts/missing_names.py"
