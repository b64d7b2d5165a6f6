"""The HTTP service: API, persistent jobs and reviews (``extractor serve``)."""
