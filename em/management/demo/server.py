"""A private, short-lived HTTP server for this process's Django app, so the SDK can talk to it.

`seed_demo` records its runs through the real SDK and uploader, which speak HTTP to an EM server; when
none is running yet (`make run` seeds before it starts the dev server) this serves the same WSGI
application on a free local port for as long as the seeding takes. Requests are handled in threads,
each with its own database connection, except for an in-memory SQLite database (the test suite's),
which only exists on the connection that made it and is therefore shared, as Django's live server does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections

LOCAL_HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    """No access log: the seeding prints its own progress."""

    def log_message(self, format: str, *args: Any) -> None:
        return


def _shared_connections() -> dict[str, Any]:
    shared = {}
    for conn in connections.all():
        if conn.vendor == "sqlite" and conn.is_in_memory_db():  # type: ignore[attr-defined]
            conn.inc_thread_sharing()
            shared[conn.alias] = conn
    return shared


@contextmanager
def serving() -> Iterator[str]:
    """Serve the app at `http://127.0.0.1:<free port>` until the block ends; yields that URL.

    Log records below ERROR are muted meanwhile: each upload's indexing task logs its success, and the
    client's closed keep-alive connections log broken pipes, none of which a person seeding needs.
    """
    shared = _shared_connections()
    logging.disable(logging.WARNING)
    server = ThreadedWSGIServer((LOCAL_HOST, 0), _QuietHandler, connections_override=shared or None)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, name="em-demo-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        logging.disable(logging.NOTSET)
        for conn in shared.values():
            conn.dec_thread_sharing()
