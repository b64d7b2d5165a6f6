"""Stage 2 — tables: locate each table, tie numbers to rows and columns, split run-together digits."""
