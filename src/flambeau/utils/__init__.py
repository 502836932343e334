"""Utilities: ``checkpoint`` (``flambeau.utils.checkpoint``), ``data`` (``flambeau.utils.data``)."""

from . import data
