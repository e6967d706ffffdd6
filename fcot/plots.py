"""Figure builders. Each returns a matplotlib Figure and never saves it (``fcot.runs`` saves)."""

from __future__ import annotations
