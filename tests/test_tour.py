"""``python -m flambeau tour``: the whole walkthrough runs, in English and in French."""

import os
import subprocess
import sys

import pytest

import flambeau as fl
from flambeau.__main__ import main

SRC = os.path.join(os.path.dirname(__file__), "..", "src")

EXPECT = {
    "en": ["flambeau tour", "tensor([1., 2., 3.], requires_grad=True)", "tensor(50., grad_fn=<MeanBackward0>)",
           "└─ b: AddBackward0 (y)  ↑ #1", "Step 5: AccumulateGrad  (x)", "x.grad += [6, 8, 10]   →   x.grad = [6, 8, 10]",
           "flambeau found x.grad = [6.0, 8.0, 10.0]", "epoch 10: w = 1.998, loss = 0.00027047", "epoch 100: w = 2.000",
           "Prediction after training: f(5) = 10.000", "RuntimeError: Trying to backward through the graph a second time",
           "What this means", "It was freed by the backward() called at ", "w.grad = [3.6, 7.2, 10.8]",
           "UserWarning: The gradient of 'w' (shape [3], float32) was added to the one left by a previous forward/backward pass",
           "UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor", "`W = W - lr * W.grad`"],
    "fr": ["Visite de flambeau", "tensor([1., 2., 3.], requires_grad=True)", "Étape 5 : AccumulateGrad  (x)",
           "AccumulateGrad (x)  [3] float32  feuille", "flambeau trouve x.grad = [6.0, 8.0, 10.0]", "époque 10 : w = 1.998, perte = 0.00027047",
           "Prédiction après l'entraînement : f(5) = 10.000", "Ce que cela veut dire", "Il a été libéré par le backward() appelé en ", "réaffecté"],
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_tour_in_process(lang, capsys):
    assert main(["tour", "--lang", lang]) == 0
    out = capsys.readouterr().out
    for line in EXPECT[lang]:
        assert line in out, line
    assert fl.get_language() == "en"  # the tour leaves the language as it found it


def test_tour_as_a_module_in_french_from_the_environment():
    env = {**os.environ, "PYTHONPATH": SRC, "FLAMBEAU_LANG": "fr"}
    done = subprocess.run([sys.executable, "-m", "flambeau", "tour"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for line in EXPECT["fr"]:
        assert line in done.stdout, line
    assert done.stderr == ""


def test_command_line_needs_a_command():
    with pytest.raises(SystemExit):
        main([])
