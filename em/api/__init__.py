"""The REST API of the node tree under /api/v1/: thin views over `em.services` and `em.access`."""
