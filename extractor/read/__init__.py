"""Stage 1 — read: bytes on disk → report text and grids (sniff/decode, HTML, PDF, DOCX, zip, normalise)."""
