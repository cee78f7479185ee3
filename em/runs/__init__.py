"""Runs: their bundles (`bundle`, `metricfile`), indexing (`indexing`) and columnar metrics (`metrics`).

Import the modules themselves (`from em.runs import metrics`); this package re-exports nothing, so
importing one part never loads the others.
"""
