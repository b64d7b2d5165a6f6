"""Output: exports (CSV, Parquet, SQLite, DuckDB) and terminal rendering."""
