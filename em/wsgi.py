"""WSGI entry point (gunicorn em.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "em.settings.base")
application = get_wsgi_application()
