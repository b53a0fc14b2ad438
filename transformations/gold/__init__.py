"""Gold transformations: pure functions from silver (and compact gold helper) DataFrames to
the KPI tables of docs/METRICS.md."""
