"""Modules that only hold settings and call one ``F.*`` function, declared as table rows.

A row gives the class name, the functional it calls, and its constructor parameters in PyTorch's order;
:func:`settings_module` builds a Module class whose ``__init__`` has exactly that signature, stores each
argument as an attribute of the same name, and whose ``forward`` passes them on to ``F.<fn>`` by keyword.
"""

from __future__ import annotations

import inspect

from .. import functional as F
from .module import Module

_P = inspect.Parameter


def functional(fn: str, module: str):
    """``F.<fn>``, or NotImplementedError naming the module when flambeau's ``nn.functional`` lacks it."""
    f = getattr(F, fn, None)
    if f is None:
        raise NotImplementedError(f"nn.{module}: flambeau.nn.functional.{fn} is not implemented yet")
    return f


def signature(params: tuple) -> inspect.Signature:
    """``(('dim',), ('*',), ('eps', 1e-6))`` -> ``(self, dim, *, eps=1e-06)``: a 1-tuple is a required parameter."""
    kind, out = _P.POSITIONAL_OR_KEYWORD, [_P("self", _P.POSITIONAL_OR_KEYWORD)]
    for p in params:
        if p == ("*",):
            kind = _P.KEYWORD_ONLY
            continue
        out.append(_P(p[0], kind) if len(p) == 1 else _P(p[0], kind, default=p[1]))
    return inspect.Signature(out)


def settings_module(name: str, fn: str, params: tuple, extra_repr, doc: str, base: type = Module, setup=None, call=None,
                    module: str = __name__) -> type:
    """A Module class that stores ``params`` and calls ``F.<fn>(*inputs, **settings)`` (or ``fn`` itself, if callable).

    ``setup(self, settings)`` may turn settings into buffers or adjust them (losses do);
    ``call(self)`` may add forward-time keywords (``training``).
    """
    sig = signature(params)
    names = [p[0] for p in params if p != ("*",)]

    def __init__(self, *args, **kwargs) -> None:
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        base.__init__(self)
        settings = {k: bound.arguments[k] for k in names}
        if setup is not None:
            settings = setup(self, settings)
        for k, v in settings.items():
            if k not in self._buffers:
                setattr(self, k, v)
        self._keys = tuple(settings)

    def forward(self, *inputs):
        kwargs = {k: getattr(self, k) for k in self._keys}
        if call is not None:
            kwargs.update(call(self))
        return (fn if callable(fn) else functional(fn, name))(*inputs, **kwargs)

    __init__.__signature__ = sig
    cls = type(name, (base,), {"__init__": __init__, "forward": forward, "__doc__": doc, "__module__": module,
                               "extra_repr": extra_repr if extra_repr is not None else base.extra_repr,
                               "_fn_name": None if callable(fn) else fn})
    return cls
