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

# Threads serve slow clients (uploads, downloads) without a process each; processes use the cores.
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", min(2 * (os.cpu_count() or 1) + 1, 8))
threads = _int("GUNICORN_THREADS", 4)

# Uploads stream big bodies through Django, so a request may take minutes (nginx allows 300 s too).
timeout = _int("GUNICORN_TIMEOUT", 300)
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
