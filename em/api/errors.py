"""Every API error in one shape: `{"error": {"code", "message", "detail"}}` with the right status."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, ResolverMatch, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from em.errors import EMError


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


class BodyTooLarge(EMError):
    """A request body past the limit Django reads into memory (the JSON bodies: manifests, batches)."""

    code = "body_too_large"
    status = 413


class TooManyFields(EMError):
    """A form body with more fields (or files) than Django parses."""

    code = "too_many_fields"
    status = 400


def _body_limit_error(exc: Exception) -> EMError | None:
    """Django's refusals to read a body, as errors that name the limit and the setting that sets it."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return BodyTooLarge(
            f"The request body is larger than {limit:,} bytes, the most a JSON body may hold here. "
            "Send fewer items per request, or ask the administrator to raise EM_MAX_JSON_BODY_BYTES.",
            detail={"limit": limit, "setting": "EM_MAX_JSON_BODY_BYTES"},
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        files = isinstance(exc, TooManyFilesSent)
        setting = "DATA_UPLOAD_MAX_NUMBER_FILES" if files else "DATA_UPLOAD_MAX_NUMBER_FIELDS"
        limit = getattr(settings, setting)
        return TooManyFields(
            f"The form has more than {limit:,} fields or files ({setting}); send the data as a JSON body.",
            detail={"limit": limit, "setting": setting},
        )
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _body_limit_error(exc) or exc
    if isinstance(exc, EMError):
        return Response(error_body(exc.code, exc.message, exc.detail), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", _first_message(exc.detail), exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        response.data = error_body("throttled", str(exc.detail), {"retry_after": getattr(exc, "wait", None)})
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        accepted = [parser.media_type for parser in getattr(context.get("request"), "parsers", [])]
        message = f"{exc.detail} Send the body as {' or '.join(accepted) or 'the documented type'}."
        response.data = error_body("unsupported_media_type", message, {"accepted": accepted})
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = error_body(str(code), str(exc.detail))
    return response


def _first_message(detail: Any) -> str:
    """A readable sentence from DRF's nested validation detail (`field: message`)."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _first_message(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail) or "Invalid input."


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


@csrf_exempt  # it changes nothing, and a session's POST must get this answer, not the CSRF page
def unknown_endpoint(request: HttpRequest, **_route: str) -> HttpResponse:
    """Any /api address no endpoint answers, for every method. Routed as the API's last pattern (em.urls)
    rather than left to handler404, which Django skips for its debug page when EM_DEBUG is on (the
    embedded default). A known endpoint asked for with or without a trailing slash says where it is."""
    path = request.path
    detail: dict[str, str] = {"path": path}
    other = path[:-1] if path.endswith("/") else f"{path}/"
    match = _resolves(other)
    if match is not None and match.func is not unknown_endpoint:
        detail["did_you_mean"] = other
    return JsonResponse(error_body("not_found", "No such API endpoint.", detail), status=status.HTTP_404_NOT_FOUND)


def _resolves(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: the JSON error shape under /api, Django's page elsewhere."""
    if is_api(request.path):
        return unknown_endpoint(request)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the JSON error shape under /api/, Django's page elsewhere."""
    if is_api(request.path):
        return JsonResponse(
            error_body("server_error", "The server failed to answer; the error has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)
