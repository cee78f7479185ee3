"""Integrations of the SDK with other tools; each imports its tool only when it is itself imported."""
