"""Gunicorn settings for EM's web process: `gunicorn -c deploy/gunicorn.conf.py em.wsgi`.

The image copies this file to /app/gunicorn.conf.py. Each value can be changed from the environment
(GUNICORN_*), so the same image fits a small VM and a cluster. Gunicorn listens on plain HTTP behind nginx
or an ingress, which terminate TLS and set X-Forwarded-Proto (em.settings.production trusts it).
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Inside a container the port is only reachable through nginx or the Service.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Slow clients. Gunicorn gives a request a thread from the moment its headers arrive until its body is
# read and answered, however slowly the client sends: a client dribbling a body a byte a second holds a
# thread for as long as it likes. nginx buffers every request body but the blob stream before it
# reaches gunicorn (deploy/nginx/em.conf), so behind it only blob uploads can be slow; the threads are
# what keeps the portal answering while they are, or when clients reach gunicorn directly.
#   - gthread: a waiting connection costs a thread, not a process, and idle keep-alive connections
#     cost nothing (they wait in the worker's poller); processes use the cores.
#   - 24 threads a worker: the kernel may hand every connection to one worker, so each worker alone must
#     outlast a burst of slow bodies (tests/test_slow_clients.py: 14 of them, as in issue 9) and still
#     answer /healthz. Mind the database: each busy thread may hold a connection, so keep
#     workers x threads (x replicas) under PostgreSQL's max_connections (100 by default).
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", min((os.cpu_count() or 1) + 1, 4))
threads = _int("GUNICORN_THREADS", 24)

# `timeout` kills a worker whose main loop stops answering; with gthread the loop runs beside the
# request threads, so a long upload does not trip it, and a hung worker is restarted within 60 s.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Heartbeat files on tmpfs: a container's overlay filesystem can stall them and get workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Only nginx / the ingress reach gunicorn, so their forwarded headers are trusted.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
# The T9k SDK sends its API key in the query string (?apikey=): access lines show it redacted.
logger_class = "em.api.t9k.redact.GunicornLogger"
