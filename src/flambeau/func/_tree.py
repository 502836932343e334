"""Pytrees for the function transforms: nested tuples, lists and dicts whose leaves are tensors (or anything else)."""

from __future__ import annotations


def flatten(obj) -> tuple[list, object]:
    """``(leaves, spec)``: the leaves in order, and what ``unflatten`` needs to rebuild ``obj`` around new leaves."""
    leaves: list = []
    return leaves, _spec(obj, leaves)


def _spec(obj, leaves: list):
    if isinstance(obj, tuple | list):
        return (type(obj), [_spec(o, leaves) for o in obj])
    if isinstance(obj, dict):
        return (dict, [(k, _spec(v, leaves)) for k, v in obj.items()])
    leaves.append(obj)
    return None


def unflatten(leaves, spec):
    """``obj`` rebuilt from ``spec`` with ``leaves`` (an iterable, consumed in order)."""
    it = iter(leaves)
    return _build(spec, it)


def _build(spec, it):
    if spec is None:
        return next(it)
    kind, items = spec
    if kind is dict:
        return {k: _build(s, it) for k, s in items}
    built = [_build(s, it) for s in items]
    return tuple(built) if kind is tuple else built


def broadcast_prefix(prefix, obj, what: str) -> list:
    """One value of ``prefix`` per leaf of ``obj``: a non-container prefix applies to a whole subtree (as in_dims does)."""
    if isinstance(prefix, tuple | list) and isinstance(obj, tuple | list):
        if len(prefix) != len(obj):
            raise ValueError(f"{what}: expected {len(obj)} entries to match the structure, got {len(prefix)}")
        return [v for p, o in zip(prefix, obj) for v in broadcast_prefix(p, o, what)]
    if isinstance(prefix, dict) and isinstance(obj, dict):
        return [v for k in obj for v in broadcast_prefix(prefix[k], obj[k], what)]
    return [prefix] * len(flatten(obj)[0])
