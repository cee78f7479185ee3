"""Pieces of bench/runs.py: fixtures, servers, the EM measurements and the MLflow comparison."""
