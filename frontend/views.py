from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The portal's page; it talks to the REST API only (the CSRF cookie lets it write)."""
    return render(request, "frontend/index.html")
