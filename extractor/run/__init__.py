"""Bulk runs: inputs, the runner (local pool and Ray), re-checking saved records, golden files."""
