"""EM: experiment management.

This package is both the Django project (settings, the node tree, runs) and the home of the client SDK
(`em.client`). Importing `em` must never import Django, so that `pip install em` without the `server`
extra gives a working CLI and SDK: nothing server-side is imported here.
"""

__version__ = "0.1.0"
