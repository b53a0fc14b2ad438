"""StructType contracts of every raw source and every table, and the table registry."""
