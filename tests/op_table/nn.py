"""nn.functional rows."""

from . import Row

ROWS: list[Row] = []
