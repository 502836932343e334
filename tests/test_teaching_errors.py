"""Errors that teach: PyTorch's type and text first, then what it means and how to fix it, in English and French."""

import os
import re
import string
import subprocess
import sys
import warnings

import pytest
import torch

import flambeau as fl
from flambeau._messages import LANGUAGES, MESSAGES

HERE = os.path.basename(__file__)


@pytest.fixture(params=LANGUAGES)
def lang(request):
    fl.set_language(request.param)
    yield request.param
    fl.set_language("en")


def raised(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    raise AssertionError("nothing was raised")


def teaches(fn, lang: str) -> tuple[str, str]:
    """Run ``fn(lib)`` under both libraries: same type, PyTorch's text first; return flambeau's explanation and its line."""
    t_err, f_err = raised(lambda: fn(torch)), raised(lambda: fn(fl))
    assert type(f_err) is type(t_err)
    head, sep, tail = str(f_err).partition("\n\n")
    assert sep, "no explanation was added"
    assert head.replace("flambeau.", "torch.") == str(t_err)
    first = {"en": "What this means: ", "fr": "Ce que cela veut dire : "}[lang]
    assert tail.startswith(first), tail
    fix = {"en": "How to fix it: ", "fr": "Comment corriger : "}[lang]
    assert fix in tail
    at = re.search(rf"\({'at' if lang == 'en' else 'en'} (\S*{HERE}):(\d+)\)$", tail)
    assert at, tail
    return tail, at.group(2)


def _line(fn, marker: str) -> str:
    """The line number of the source line of ``fn`` holding ``marker``."""
    import inspect
    lines, start = inspect.getsourcelines(fn)
    return str(start + next(i for i, line in enumerate(lines) if marker in line))


# ---- the catalogue ----------------------------------------------------------------------------------------

def test_every_message_exists_in_every_language_with_the_same_fields():
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lg].strip() for lg in LANGUAGES), key
        assert len({tuple(fields(entry[lg])) for lg in LANGUAGES}) == 1, key
    assert MESSAGES["freed"]["en"] != MESSAGES["freed"]["fr"]


def test_every_message_the_code_asks_for_is_in_the_catalogue():
    src = os.path.join(os.path.dirname(__file__), "..", "src", "flambeau")
    used = set()
    for folder, _, files in os.walk(src):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    used.update(re.findall(r"""\bmsg\(\s*["']([\w.]+)["']""", f.read()))
    assert len(used) > 30 and used <= set(MESSAGES), used - set(MESSAGES)
    assert set(MESSAGES) - used == set(), "entries nothing uses"


def test_set_language_checks_its_argument():
    with pytest.raises(ValueError, match="'en', 'fr'"):
        fl.set_language("de")
    fl.set_language("FR")
    assert fl.get_language() == "fr"
    fl.set_language("en")


def test_language_from_the_environment():
    code = "import flambeau; print(flambeau.get_language())"
    env = {**os.environ, "FLAMBEAU_LANG": "fr", "PYTHONPATH": os.path.join(os.path.dirname(__file__), "..", "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "fr"


# ---- each error, in both languages ------------------------------------------------------------------------

def _backward_twice(t):
    x = t.tensor([1., 2., 3.], requires_grad=True)
    z = ((x + 2) * (x + 2) * 3).mean()
    z.backward()  # frees
    z.backward()  # fails


def test_backward_through_a_freed_graph(lang):
    tail, line = teaches(_backward_twice, lang)
    assert line == _line(_backward_twice, "# fails")
    assert "retain_graph=True" in tail and "set_detect_pitfalls(True)" in tail
    assert ("recompute the forward pass" if lang == "en" else "recalculez la passe avant") in tail
    fl.autograd.set_detect_pitfalls(True)  # then the line that freed the graph is known
    try:
        tail, _ = teaches(_backward_twice, lang)
    finally:
        fl.autograd.set_detect_pitfalls(False)
    freed_at = f"{HERE}:{_line(_backward_twice, '# frees')}."
    said = {"en": "freed by the backward() called at ", "fr": "libéré par le backward() appelé en "}[lang]
    assert re.search(re.escape(said) + r"\S*" + re.escape(freed_at), tail), tail


def _modified_saved_input(t):
    x = t.tensor([1., 2., 3.], requires_grad=True)
    a = x.exp()
    c = (a * a).sum()
    a.add_(1)
    c.backward()


def test_saved_tensor_modified_in_place(lang):
    tail, _ = teaches(_modified_saved_input, lang)
    assert "MulBackward0" in tail and "'a'" in tail and "(AddBackward0)" in tail
    assert ("at version 0" if lang == "en" else "version 0") in tail and ("version 1" in tail)
    assert ("clone()" in tail) and "set_detect_anomaly" in tail


def test_saved_tensor_modified_in_place_names_both_lines_from_anomaly_traces(lang):
    """Anomaly mode keeps each node's forward stack as ``node._trace`` (traceback.format_list); the explanation quotes it."""
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    a = x.exp()
    c = (a * a).sum()
    c.grad_fn.next_functions[0][0]._trace = ['  File "model.py", line 7, in forward\n    c = (a * a).sum()\n']
    a.add_(1)
    a.grad_fn._trace = ['  File "model.py", line 8, in forward\n    a.add_(1)\n']
    e = raised(c.backward)
    said = {"en": "Anomaly mode recorded the lines: MulBackward0 was made at model.py:7: c = (a * a).sum(); the in-place operation at "
                  "model.py:8: a.add_(1).",
            "fr": "Le mode anomalie a noté les lignes : MulBackward0 a été créé en model.py:7: c = (a * a).sum() ; l'opération en "
                  "place en model.py:8: a.add_(1)."}[lang]
    assert said in str(e)


def _modified_saved_output(t):
    x = t.tensor([1., 2., 3.], requires_grad=True)
    e = x.exp()
    e.mul_(2)
    e.sum().backward()


def test_saved_output_modified_in_place(lang):
    tail, _ = teaches(_modified_saved_output, lang)
    assert "ExpBackward0" in tail and "'e'" in tail


def _no_grad_anywhere(t):
    loss = (t.tensor([1., 2.]) * 2).sum()
    loss.backward()


def _computed_under_no_grad(t):
    w = t.tensor([1., 2.], requires_grad=True)
    with t.no_grad():
        loss = (w * 2).sum()
        loss.backward()


def test_backward_on_a_tensor_that_does_not_require_grad(lang):
    tail, _ = teaches(_no_grad_anywhere, lang)
    assert "'loss'" in tail and "requires_grad=True" in tail and "no_grad()" in tail and "detach()" in tail
    assert ("No tensor here has requires_grad=True" if lang == "en" else "Aucun tenseur ici n'a requires_grad=True") in tail
    tail, _ = teaches(_computed_under_no_grad, lang)
    assert ("switched off right now" if lang == "en" else "désactivé en ce moment") in tail
    assert ("Tensors here that do require grad: 'w'." if lang == "en" else "Tenseurs ici qui demandent un gradient : 'w'.") in tail


def _update_leaf_in_place(t):
    W = t.tensor([1., 2.], requires_grad=True)
    (W * W).sum().backward()
    W -= 0.1 * W.grad


def test_in_place_on_a_leaf_that_requires_grad(lang):
    tail, line = teaches(_update_leaf_in_place, lang)
    assert "'W'" in tail and "with torch.no_grad():" in tail
    assert line == _line(_update_leaf_in_place, "W -= 0.1")


def _bad_shapes(t):
    a = t.ones(2, 3)
    b = t.ones(3, 2)
    return a * b


def test_shapes_that_do_not_broadcast(lang):
    tail, line = teaches(_bad_shapes, lang)
    assert "mul" in tail and "[2, 3]" in tail and "[3, 2]" in tail and line == _line(_bad_shapes, "a * b")
    assert ("equal or one of them is 1" if lang == "en" else "l'une vaut 1") in tail


def _bad_matmul(t):
    x = t.ones(2, 3, 4)
    w = t.ones(5, 6)
    return x @ w


def _bad_batches(t):
    return t.ones(4, 2, 3).matmul(t.ones(5, 3, 2))


def _bad_vector(t):
    return t.mm(t.ones(2, 3), t.ones(2, 3))


def _bad_linear(t):
    layer = t.nn.Linear(3, 4)
    return layer(t.ones(7, 5, 2))


@pytest.mark.parametrize("fn,marker,facts", [
    (_bad_matmul, "x @ w", ["matmul", "[2, 3, 4]", "[5, 6]", "(4)", "(5)", "b.mT"]),
    (_bad_batches, "matmul(", ["[4]", "[5]"]),
    (_bad_vector, "t.mm(", ["mm", "[2, 3]", "(3)", "(2)"]),
    (_bad_linear, "layer(", ["in_features", "[4, 3]", "[7, 5, 2]", "nn.Linear(2, 4)", "x.flatten(1)"]),
])
def test_matrix_products_with_the_wrong_shapes(fn, marker, facts, lang):
    """PyTorch reports the shapes of an inner 2-D product (6x4 for a [2, 3, 4] input); the explanation names the caller's."""
    tail, line = teaches(fn, lang)
    assert line == _line(fn, marker)
    for fact in facts:
        assert fact in tail, (fact, tail)


def test_grad_of_a_rebound_leaf_warns_what_happened(lang):
    def run(t):
        W = t.tensor(0.0, requires_grad=True)
        ((W * 2 - 1) ** 2).backward()
        W = W - 0.01 * W.grad
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert W.grad is None
        (w,) = caught
        return w
    t_w, f_w = run(torch), run(fl)
    assert f_w.category is t_w.category is UserWarning
    head, _, tail = str(f_w.message).partition("\n\n")
    assert head == str(t_w.message).split(" (Triggered internally")[0]
    assert "'W'" in tail and "SubBackward0" in tail and "W -= lr * W.grad" in tail
    assert ("rebound" if lang == "en" else "réaffecté") in tail
    assert f_w.filename == __file__


def test_grad_of_an_ordinary_non_leaf_does_not_mention_rebinding(lang):
    x = fl.tensor([1., 2.], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning) as caught:
        assert y.grad is None
    text = str(caught[0].message)
    assert "'y'" in text and "MulBackward0" in text and "W = W - lr" not in text


# ---- the pitfall watch ----------------------------------------------------------------------------------

@pytest.fixture
def watch():
    def on(params=None):
        fl.autograd.set_detect_pitfalls(True, params=params)
    yield on
    fl.autograd.set_detect_pitfalls(False)


def caught(fn) -> list:
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in ws if w.category is UserWarning]


def test_pitfall_watch_is_off_by_default_and_free():
    from flambeau.autograd import engine
    assert not fl.autograd.is_detect_pitfalls_enabled() and engine.RECORDERS == []
    w = fl.tensor([1., 2.], requires_grad=True)
    assert caught(lambda: [(w * 2).sum().backward() for _ in range(2)]) == []


def test_forgotten_zero_grad(watch, lang):
    watch()
    w = fl.tensor([1., 2.], requires_grad=True)

    def training(zero: bool, passes_per_step: int = 1):
        for _ in range(3):
            for _ in range(passes_per_step):
                (w * w).sum().backward()
            with fl.no_grad():
                w.sub_(0.1 * w.grad)
            if zero:
                w.grad.zero_()
    assert caught(lambda: training(zero=True)) == []
    w.grad = None
    got = caught(lambda: training(zero=False))
    assert len(got) == 2 and "w.grad.zero_()" in got[0]
    assert ("accumulates until you zero it" if lang == "en" else "s'accumule tant qu'on ne le remet pas à zéro") in got[0]
    # several backward passes before one update (maybe accumulation on purpose): a warning that says so
    w.grad = None
    got = caught(lambda: training(zero=True, passes_per_step=3))
    assert len(got) == 6 and ("on purpose" if lang == "en" else "volontairement") in got[0] and "w.grad.zero_()" in got[0]
    w.grad = None
    got = caught(lambda: [(w * 2).sum().backward() for _ in range(3)])  # the classic demo: 2, 4, 6 with no zero_()
    assert len(got) == 2 and ("on purpose" if lang == "en" else "volontairement") in got[0]
    w.grad = None
    # the same with an optimizer, and the forgotten zero_grad() with it
    opt = fl.optim.SGD([w], lr=0.1)

    def with_optimizer(zero: bool, passes_per_step: int):
        for _ in range(3):
            for _ in range(passes_per_step):
                (w * w).sum().backward()
            opt.step()
            if zero:
                opt.zero_grad()
    opt.zero_grad()
    assert caught(lambda: with_optimizer(True, 1)) == []
    got = caught(lambda: with_optimizer(False, 1))
    assert len(got) == 2 and all("accumulates until you zero it" in m or "s'accumule" in m for m in got)
    # two backward passes through one graph (retain_graph) are deliberate: no warning
    w.grad = None
    z = (w * 2).sum()
    assert caught(lambda: (z.backward(retain_graph=True), z.backward())) == []


def test_non_scalar_loss_summed_implicitly(watch, lang):
    watch()
    w = fl.tensor([1., 2.], requires_grad=True)
    losses = (w - 3) ** 2
    got = caught(lambda: losses.backward(fl.ones(2)))
    assert len(got) == 1 and "'losses'" in got[0] and "[2]" in got[0]
    assert ("SUM" if lang == "en" else "SOMME") in got[0]
    w.grad = None
    assert caught(lambda: ((w - 3) ** 2).mean().backward()) == []


def test_parameter_without_gradient(watch, lang):
    W = fl.tensor([1., 2.], requires_grad=True)
    unused = fl.tensor([3.], requires_grad=True)
    watch({"W": W, "unused": unused})
    got = caught(lambda: (W * 2).sum().backward())
    assert len(got) == 1 and "'unused'" in got[0]
    assert ("received no gradient" if lang == "en" else "n'a reçu aucun gradient") in got[0]
    assert caught(lambda: fl.autograd.grad((W * 2).sum(), W)) == []  # grad() fills no .grad: nothing to say


def test_parameters_from_named_parameters_iterator(watch):
    W = fl.tensor([1., 2.], requires_grad=True)
    b = fl.tensor([3.], requires_grad=True)
    watch(iter([("layer.weight", W), ("layer.bias", b)]))
    got = caught(lambda: (W * 2).sum().backward())
    assert len(got) == 1 and "'layer.bias'" in got[0]


def test_float64_mixed_with_float32(watch, lang):
    import numpy as np
    watch()
    X = fl.tensor(np.array([1., 2.]))  # NumPy data: float64
    W = fl.tensor([0.5], requires_grad=True)  # float32
    got = caught(lambda: (W * X).sum().backward())
    assert len(got) == 1 and "'X'" in got[0] and "'W'" in got[0] and "float64" in got[0]
    W.grad = None
    assert caught(lambda: (W * X.float()).sum().backward()) == []
