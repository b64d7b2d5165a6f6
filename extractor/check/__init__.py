"""Stage 3 — check: identities, labels, grounding, soft checks, status, the record. Pure: no I/O, no LLM."""
