"""The message catalogue: every explanation, hint and label flambeau writes for people, in English and French.

PyTorch's own error text stays in English, first, so that it can be searched; what follows it (the
meaning here, the fix) comes from this catalogue in the chosen language::

    >>> import flambeau
    >>> flambeau.set_language("fr")
    >>> flambeau.get_language()
    'fr'
    >>> flambeau.set_language("en")

The language defaults to the environment variable ``FLAMBEAU_LANG`` (``en`` or ``fr``), else English.
Each entry is a ``str.format`` template; ``tests/test_teaching_errors.py`` checks that both languages
have every entry with the same fields.
"""

from __future__ import annotations

import os

__all__ = ["set_language", "get_language"]

LANGUAGES = ("en", "fr")

MESSAGES: dict[str, dict[str, str]] = {
    # ---- errors that teach --------------------------------------------------------------------------------------------------------------
    "freed": {
        "en": "What this means: backward() walks the recorded graph and, to save memory, frees the values each step saved "
              "(unless retain_graph=True). The graph through {node} has already been walked once, so its saved values are gone.",
        "fr": "Ce que cela veut dire : backward() parcourt le graphe enregistré et, pour économiser la mémoire, libère les valeurs "
              "sauvegardées à chaque étape (sauf avec retain_graph=True). Le graphe qui passe par {node} a déjà été parcouru "
              "une fois : ses valeurs sauvegardées n'existent plus.",
    },
    "freed.by": {
        "en": "It was freed by the backward() called at {where}.",
        "fr": "Il a été libéré par le backward() appelé en {where}.",
    },
    "freed.unknown": {
        "en": "It was freed by an earlier backward() (or autograd.grad()) through this graph; with "
              "flambeau.autograd.set_detect_pitfalls(True), this message names the line of that call.",
        "fr": "Il a été libéré par un backward() (ou autograd.grad()) précédent sur ce graphe ; avec "
              "flambeau.autograd.set_detect_pitfalls(True), ce message indique la ligne de cet appel.",
    },
    "freed.fix": {
        "en": "How to fix it: recompute the forward pass (call the model/loss again) before each backward(), or, if you really need "
              "two backward passes through the same graph, pass retain_graph=True to the first one.",
        "fr": "Comment corriger : recalculez la passe avant (rappelez le modèle / la perte) avant chaque backward(), ou, si vous avez "
              "vraiment besoin de deux backward sur le même graphe, passez retain_graph=True au premier.",
    },
    "version": {
        "en": "What this means: {saver} saved {tensor} during the forward pass to compute its derivative (saved at version {saved}). "
              "Since then an in-place operation{changer} modified it (it is now at version {now}), so the saved value is no longer "
              "the one the derivative needs.",
        "fr": "Ce que cela veut dire : {saver} a sauvegardé {tensor} pendant la passe avant pour calculer sa dérivée (version {saved}). "
              "Depuis, une opération en place{changer} l'a modifié (il est maintenant à la version {now}) : la valeur sauvegardée "
              "n'est plus celle dont la dérivée a besoin.",
    },
    "version.output": {
        "en": "its output, of shape {shape}",
        "fr": "sa sortie, de forme {shape}",
    },
    "version.changer": {
        "en": " ({op})",
        "fr": " ({op})",
    },
    "version.lines": {
        "en": "Anomaly mode recorded the lines: {saver} was made at {made}; the in-place operation at {changed}.",
        "fr": "Le mode anomalie a noté les lignes : {saver} a été créé en {made} ; l'opération en place en {changed}.",
    },
    "version.fix": {
        "en": "How to fix it: use the out-of-place form (x = x + 1 instead of x += 1, x.relu() instead of x.relu_()), or clone() the "
              "tensor before modifying it. With flambeau.autograd.set_detect_anomaly(True), this message shows the lines of both.",
        "fr": "Comment corriger : utilisez la forme hors place (x = x + 1 au lieu de x += 1, x.relu() au lieu de x.relu_()), ou "
              "faites un clone() du tenseur avant de le modifier. Avec flambeau.autograd.set_detect_anomaly(True), ce message "
              "montre les lignes des deux.",
    },
    "noreq": {
        "en": "What this means: {tensor} is not part of any recorded graph, so there is nothing to differentiate. Likely causes: "
              "no tensor it was computed from has requires_grad=True; it was computed under torch.no_grad(){now}; or its path went "
              "through detach(), .data, .numpy() or .item(), which leave the graph.",
        "fr": "Ce que cela veut dire : {tensor} ne fait partie d'aucun graphe enregistré, il n'y a donc rien à dériver. Causes "
              "probables : aucun des tenseurs dont il est calculé n'a requires_grad=True ; il a été calculé sous torch.no_grad(){now} ; "
              "ou son chemin passe par detach(), .data, .numpy() ou .item(), qui sortent du graphe.",
    },
    "noreq.now": {
        "en": " (gradient recording is switched off right now)",
        "fr": " (l'enregistrement des gradients est désactivé en ce moment)",
    },
    "noreq.found": {
        "en": "Tensors here that do require grad: {names}. If {tensor} was computed from them, that happened under no_grad() "
              "or through detach()/.data/.numpy().",
        "fr": "Tenseurs ici qui demandent un gradient : {names}. Si {tensor} en a été calculé, c'était sous no_grad() ou à "
              "travers detach()/.data/.numpy().",
    },
    "noreq.none": {
        "en": "No tensor here has requires_grad=True: set it on the inputs (parameters) you want gradients for.",
        "fr": "Aucun tenseur ici n'a requires_grad=True : activez-le sur les entrées (paramètres) dont vous voulez le gradient.",
    },
    "noreq.fix": {
        "en": "How to fix it: create the inputs you want gradients for with requires_grad=True (or call x.requires_grad_()), and "
              "compute the loss outside no_grad() with tensor operations only.",
        "fr": "Comment corriger : créez les entrées dont vous voulez le gradient avec requires_grad=True (ou appelez "
              "x.requires_grad_()), et calculez la perte hors de no_grad(), uniquement avec des opérations sur tenseurs.",
    },
    "leaf_inplace": {
        "en": "What this means: {tensor} is a leaf that requires grad (a parameter); changing it in place would silently change "
              "the value its gradient is computed at.",
        "fr": "Ce que cela veut dire : {tensor} est une feuille qui demande un gradient (un paramètre) ; la modifier en place "
              "changerait en silence la valeur en laquelle son gradient est calculé.",
    },
    "leaf_inplace.fix": {
        "en": "How to fix it: an update of parameters belongs outside the graph: wrap it in `with torch.no_grad():` (for example "
              "`with torch.no_grad(): W -= lr * W.grad`).",
        "fr": "Comment corriger : la mise à jour des paramètres se fait hors du graphe : entourez-la de `with torch.no_grad():` "
              "(par exemple `with torch.no_grad(): W -= lr * W.grad`).",
    },
    "nonleaf_grad": {
        "en": "{tensor} was computed by {node}, so it is not a leaf and backward() does not fill its .grad.",
        "fr": "{tensor} a été calculé par {node} : ce n'est pas une feuille et backward() ne remplit pas son .grad.",
    },
    "nonleaf_rebound": {
        "en": "It looks like a parameter was rebound by an update such as `W = W - lr * W.grad`: that builds a new tensor (a "
              "{node} of the old leaf, which held the gradient), and the name now points at it. Update in place instead: "
              "`with torch.no_grad(): W -= lr * W.grad`.",
        "fr": "On dirait qu'un paramètre a été réaffecté par une mise à jour comme `W = W - lr * W.grad` : cela construit un "
              "nouveau tenseur (un {node} de l'ancienne feuille, qui portait le gradient), et le nom désigne maintenant ce nouveau "
              "tenseur. Faites la mise à jour en place : `with torch.no_grad(): W -= lr * W.grad`.",
    },
    "broadcast": {
        "en": "What this means: {op} got shapes {a} and {b}. Broadcasting compares shapes from the right; two sizes fit when they "
              "are equal or one of them is 1. Here dimension {dim} has sizes {na} and {nb}, which fit neither way.",
        "fr": "Ce que cela veut dire : {op} a reçu les formes {a} et {b}. La diffusion (broadcasting) compare les formes en "
              "partant de la droite ; deux tailles vont ensemble si elles sont égales ou si l'une vaut 1. Ici la dimension {dim} "
              "a les tailles {na} et {nb}, qui ne vont pas ensemble.",
    },
    "broadcast.fix": {
        "en": "How to fix it: check which tensor has the wrong shape; reshape(), unsqueeze() or a transpose (.T) usually aligns them.",
        "fr": "Comment corriger : vérifiez quel tenseur a la mauvaise forme ; reshape(), unsqueeze() ou une transposition (.T) "
              "les aligne en général.",
    },
    "matmul": {
        "en": "What this means: {op} multiplies shapes {a} and {b}. The last dimension of the first ({k1}) must equal the {side} "
              "of the second ({k2}): every row of the first meets every column of the second.",
        "fr": "Ce que cela veut dire : {op} multiplie les formes {a} et {b}. La dernière dimension du premier ({k1}) doit être "
              "égale à la {side} du second ({k2}) : chaque ligne du premier rencontre chaque colonne du second.",
    },
    "matmul.side.first": {"en": "first dimension", "fr": "première dimension"},
    "matmul.side.second_last": {"en": "second-to-last dimension", "fr": "avant-dernière dimension"},
    "matmul.fix": {
        "en": "How to fix it: check which operand has the wrong shape; often one of them needs a transpose (`b.T`, or `b.mT` "
              "for a batch of matrices).",
        "fr": "Comment corriger : vérifiez quel opérande a la mauvaise forme ; souvent l'un des deux doit être transposé (`b.T`, "
              "ou `b.mT` pour un lot de matrices).",
    },
    "matmul.batch": {
        "en": "What this means: {op} multiplies shapes {a} and {b}; the dimensions before the last two are batch dimensions "
              "and must broadcast, but {ba} and {bb} do not (two sizes fit when they are equal or one of them is 1).",
        "fr": "Ce que cela veut dire : {op} multiplie les formes {a} et {b} ; les dimensions avant les deux dernières sont des "
              "dimensions de lot et doivent se diffuser, mais {ba} et {bb} ne vont pas ensemble (deux tailles vont ensemble si "
              "elles sont égales ou si l'une vaut 1).",
    },
    "linear": {
        "en": "What this means: this linear layer takes inputs whose last dimension is its in_features, {k2} (its weight has "
              "shape {w}); the input has shape {x}, whose last dimension is {k1}.",
        "fr": "Ce que cela veut dire : cette couche linéaire attend des entrées dont la dernière dimension vaut son in_features, "
              "{k2} (son poids a la forme {w}) ; l'entrée a la forme {x}, dont la dernière dimension vaut {k1}.",
    },
    "linear.fix": {
        "en": "How to fix it: make in_features match the input, e.g. nn.Linear({k1}, {n_out}), or flatten/reshape the input "
              "(x.flatten(1)) before the layer.",
        "fr": "Comment corriger : faites correspondre in_features à l'entrée, par exemple nn.Linear({k1}, {n_out}), ou aplatissez "
              "l'entrée (x.flatten(1)) avant la couche.",
    },
    "tensor.named": {
        "en": "'{name}' (shape {shape}, {dtype})",
        "fr": "'{name}' (forme {shape}, {dtype})",
    },
    "tensor.unnamed": {
        "en": "a tensor of shape {shape} ({dtype})",
        "fr": "un tenseur de forme {shape} ({dtype})",
    },
    "at_line": {
        "en": "(at {where})",
        "fr": "(en {where})",
    },
    # ---- pitfall watch -------------------------------------------------------------------------------------------------------------------
    "pitfall.accumulate": {
        "en": "The gradient of {tensor} was added to the one left by a previous forward/backward pass: .grad accumulates until you "
              "zero it. Call {name}.grad.zero_() (or optimizer.zero_grad()) before each backward().",
        "fr": "Le gradient de {tensor} s'est ajouté à celui laissé par une passe avant/arrière précédente : .grad s'accumule tant "
              "qu'on ne le remet pas à zéro. Appelez {name}.grad.zero_() (ou optimizer.zero_grad()) avant chaque backward().",
    },
    "pitfall.accumulate_no_step": {
        "en": "The gradient of {tensor} was added to the one left by a previous forward/backward pass (with no update of it in "
              "between). If you accumulate gradients over several batches on purpose, this is expected; otherwise call "
              "{name}.grad.zero_() (or optimizer.zero_grad()) before each backward().",
        "fr": "Le gradient de {tensor} s'est ajouté à celui laissé par une passe avant/arrière précédente (sans mise à jour "
              "entre les deux). Si vous accumulez volontairement les gradients sur plusieurs lots, c'est normal ; sinon appelez "
              "{name}.grad.zero_() (ou optimizer.zero_grad()) avant chaque backward().",
    },
    "pitfall.implicit_sum": {
        "en": "backward() on {tensor}, of shape {shape}, with a gradient of ones differentiates the SUM of its elements. If it is a "
              "loss, reduce it yourself (.mean() or .sum()) so that the choice is explicit.",
        "fr": "backward() sur {tensor}, de forme {shape}, avec un gradient rempli de uns dérive la SOMME de ses éléments. Si c'est "
              "une perte, réduisez-la vous-même (.mean() ou .sum()) pour que le choix soit explicite.",
    },
    "pitfall.unused_param": {
        "en": "Parameter {tensor} received no gradient from this backward(): it does not take part in the computation of the loss "
              "(or the path to it leaves the graph).",
        "fr": "Le paramètre {tensor} n'a reçu aucun gradient de ce backward() : il ne participe pas au calcul de la perte (ou le "
              "chemin qui y mène sort du graphe).",
    },
    "pitfall.mixed_dtype": {
        "en": "This graph mixes float64 tensors ({f64}) and float32 tensors ({f32}). The results are promoted to float64, "
              "which is slower and usually unintended; convert with .float() (or .double()) so that all agree.",
        "fr": "Ce graphe mélange des tenseurs float64 ({f64}) et float32 ({f32}). Les résultats sont promus en float64, ce qui "
              "est plus lent et rarement voulu ; convertissez avec .float() (ou .double()) pour les accorder.",
    },
    # ---- explain (step-by-step backward) -----------------------------------------------------------------------------------------------
    "explain.title": {
        "en": "Backward, step by step ({n} steps): the chain rule, from the output back to the leaves",
        "fr": "La rétropropagation pas à pas ({n} étapes) : la règle de la chaîne, de la sortie vers les feuilles",
    },
    "explain.step": {
        "en": "Step {i}: {node}{what}",
        "fr": "Étape {i} : {node}{what}",
    },
    "explain.arriving": {
        "en": "gradient arriving  ∂ℒ/∂out = {g}",
        "fr": "gradient qui arrive  ∂ℒ/∂sortie = {g}",
    },
    "explain.saved": {
        "en": "saved in forward   {saved}",
        "fr": "sauvé en avant     {saved}",
    },
    "explain.local": {
        "en": "local derivative   {formula}",
        "fr": "dérivée locale     {formula}",
    },
    "explain.leaving": {
        "en": "gradient leaving → {target}: {g}",
        "fr": "gradient qui part → {target} : {g}",
    },
    "explain.accumulate": {
        "en": "{leaf}.grad += {g}   →   {leaf}.grad = {total}",
        "fr": "{leaf}.grad += {g}   →   {leaf}.grad = {total}",
    },
    "explain.unbroadcast": {
        "en": "(summed over the broadcast dimensions to shape {shape} on arrival)",
        "fr": "(sommé sur les dimensions diffusées jusqu'à la forme {shape} à l'arrivée)",
    },
    "explain.saved_n": {
        "en": "saved {i}",
        "fr": "sauvé {i}",
    },
    "explain.custom": {
        "en": "given by {fn}.backward() (a custom Function)",
        "fr": "donnée par {fn}.backward() (une Function personnalisée)",
    },
    "explain.no_formula": {
        "en": "(no formula text for this node)",
        "fr": "(pas de formule écrite pour ce nœud)",
    },
    "explain.input": {
        "en": "input {i}",
        "fr": "entrée {i}",
    },
    # ---- graph view --------------------------------------------------------------------------------------------------------------------
    "viz.no_graphviz": {
        "en": "Rendering to SVG/PNG needs the `graphviz` Python package (pip install graphviz) and the Graphviz `dot` program "
              "(apt-get install graphviz, brew install graphviz). Without them, str(graph) draws it as text and graph.dot() gives "
              "the DOT source.",
        "fr": "Le rendu en SVG/PNG demande le paquet Python `graphviz` (pip install graphviz) et le programme Graphviz `dot` "
              "(apt-get install graphviz, brew install graphviz). Sans eux, str(graphe) le dessine en texte et graphe.dot() donne "
              "la source DOT.",
    },
    "viz.leaf": {
        "en": "leaf",
        "fr": "feuille",
    },
    "viz.saved": {
        "en": "saved",
        "fr": "sauvé",
    },
    "viz.freed": {
        "en": "freed by backward()",
        "fr": "libéré par backward()",
    },
    "viz.grad": {
        "en": "grad",
        "fr": "grad",
    },
    # ---- the tour ------------------------------------------------------------------------------------------------------------------------
    "tour.title": {
        "en": "flambeau tour: autograd in one run (the course « Introduction à PyTorch : AutoGrad »)",
        "fr": "Visite de flambeau : l'autograd en une fois (le cours « Introduction à PyTorch : AutoGrad »)",
    },
    "tour.tensors": {
        "en": "1. Tensors that are followed: requires_grad=True records every operation",
        "fr": "1. Des tenseurs suivis : requires_grad=True enregistre chaque opération",
    },
    "tour.graph": {
        "en": "2. The recorded graph of z = mean(3·(x+2)²), drawn from the output down to the leaf",
        "fr": "2. Le graphe enregistré de z = mean(3·(x+2)²), dessiné de la sortie jusqu'à la feuille",
    },
    "tour.backward": {
        "en": "3. z.backward(), explained: each step multiplies the arriving gradient by a local derivative",
        "fr": "3. z.backward(), expliqué : chaque étape multiplie le gradient qui arrive par une dérivée locale",
    },
    "tour.check": {
        "en": "By hand: z = mean(3(x+2)²), so ∂z/∂x = 6(x+2)/3 = 2(x+2) = {expected}. flambeau found x.grad = {got}.",
        "fr": "À la main : z = mean(3(x+2)²), donc ∂z/∂x = 6(x+2)/3 = 2(x+2) = {expected}. flambeau trouve x.grad = {got}.",
    },
    "tour.training": {
        "en": "4. Linear regression f(x) = w·x trained by gradient descent (Y = 2·X, so w should reach 2)",
        "fr": "4. Régression linéaire f(x) = w·x entraînée par descente de gradient (Y = 2·X, donc w doit atteindre 2)",
    },
    "tour.epoch": {
        "en": "epoch {epoch}: w = {w:.3f}, loss = {loss:.8f}",
        "fr": "époque {epoch} : w = {w:.3f}, perte = {loss:.8f}",
    },
    "tour.prediction": {
        "en": "Prediction after training: f(5) = {value:.3f}",
        "fr": "Prédiction après l'entraînement : f(5) = {value:.3f}",
    },
    "tour.errors": {
        "en": "5. Errors that teach: the course's warnings, happening",
        "fr": "5. Des erreurs qui expliquent : les avertissements du cours, en vrai",
    },
    "tour.end": {
        "en": "More: flambeau.viz.graph(t) draws any graph (also as DOT/SVG), flambeau.autograd.explain() explains any backward, "
              "flambeau.autograd.set_detect_pitfalls(True) watches for the classic mistakes.",
        "fr": "Pour aller plus loin : flambeau.viz.graph(t) dessine n'importe quel graphe (aussi en DOT/SVG), "
              "flambeau.autograd.explain() explique n'importe quel backward, flambeau.autograd.set_detect_pitfalls(True) guette "
              "les erreurs classiques.",
    },
}

_LANG = [os.environ.get("FLAMBEAU_LANG", "en").lower()[:2]]
if _LANG[0] not in LANGUAGES:
    _LANG[0] = "en"


def set_language(lang: str) -> None:
    """Choose the language of flambeau's explanations, hints and explain-steps: ``'en'`` (default) or ``'fr'``.

    >>> import flambeau
    >>> flambeau.set_language("fr"); flambeau.set_language("en")
    """
    lang = str(lang).lower()
    if lang not in LANGUAGES:
        raise ValueError(f"set_language: expected one of {', '.join(map(repr, LANGUAGES))}, got {lang!r}")
    _LANG[0] = lang


def get_language() -> str:
    """The language chosen by :func:`set_language` (or ``FLAMBEAU_LANG``): ``'en'`` or ``'fr'``."""
    return _LANG[0]


def msg(key: str, **fields) -> str:
    """The catalogue entry ``key`` in the current language, filled with ``fields``."""
    return MESSAGES[key][_LANG[0]].format(**fields)
