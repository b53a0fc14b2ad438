"""Thin job entry points: read sources, call transformations, write tables, record the run."""
