"""``flambeau.utils``: ``data`` (Dataset, DataLoader ...)."""

from . import data
