"""Serves the web portal: the built single-page app from `frontend/` (a placeholder page until then)."""
