"""MLflow's error shape, `{"error_code": "...", "message": "..."}`, mapped once from EM's errors.

The MLflow client acts on `error_code` (a missing experiment must read RESOURCE_DOES_NOT_EXIST, or
`mlflow.set_experiment` never creates it), so every failure of these endpoints answers in that shape
with the HTTP status MLflow's server gives the code. EM's rule holds underneath: what a caller may not
see is RESOURCE_DOES_NOT_EXIST, exactly like what does not exist.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from em import errors
from em.api.errors import _body_limit_error

INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"

# EM's error types, most specific first, and what MLflow calls them (with MLflow's HTTP status).
_EM_TO_MLFLOW: list[tuple[type[errors.EMError], str, int]] = [
    (errors.NotFound, RESOURCE_DOES_NOT_EXIST, 404),
    (errors.NameClash, RESOURCE_ALREADY_EXISTS, 400),
    (errors.Conflict, "INVALID_STATE", 400),
    (errors.PermissionDenied, "PERMISSION_DENIED", 403),
]
_DRF_TO_MLFLOW: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "UNAUTHENTICATED"),
    (exceptions.AuthenticationFailed, "UNAUTHENTICATED"),
    (exceptions.PermissionDenied, "PERMISSION_DENIED"),
    (exceptions.Throttled, "REQUEST_LIMIT_EXCEEDED"),
    (exceptions.MethodNotAllowed, ENDPOINT_NOT_FOUND),
    (exceptions.NotFound, RESOURCE_DOES_NOT_EXIST),
]


class MlflowError(errors.InvalidInput):
    """A failure named in MLflow's words by this layer itself (a missing field, an unknown view type)."""

    def __init__(self, message: str, *, error_code: str = INVALID_PARAMETER_VALUE, status: int = 400) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status


def body(code: str, message: str) -> dict[str, Any]:
    return {"error_code": code, "message": message}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler for the MLflow views: MLflow's shape for every error a request can meet."""
    exc = _body_limit_error(exc) or exc
    if isinstance(exc, MlflowError):
        return Response(body(exc.error_code, exc.message), status=exc.status)
    if isinstance(exc, errors.EMError):
        for kind, code, status in _EM_TO_MLFLOW:
            if isinstance(exc, kind):
                return Response(body(code, exc.message), status=status)
        return Response(body(INVALID_PARAMETER_VALUE, exc.message), status=exc.status)
    if isinstance(exc, exceptions.APIException):
        code = next((name for kind, name in _DRF_TO_MLFLOW if isinstance(exc, kind)), INVALID_PARAMETER_VALUE)
        wait = getattr(exc, "wait", None)
        headers = {"Retry-After": str(int(wait))} if wait else {}
        return Response(body(code, _text(exc.detail)), status=exc.status_code, headers=headers)
    return None  # a bug: Django logs it and answers 500


def _text(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {_text(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_text(item) for item in detail)
    return str(detail)


@csrf_exempt  # it changes nothing; a client's POST must get this answer, not the CSRF page
def unknown_endpoint(request: HttpRequest, **_route: str) -> JsonResponse:
    """Any MLflow address this layer does not serve (the client probes `/api/3.0/mlflow/server-info`
    and carries on after a 404)."""
    return JsonResponse(body(ENDPOINT_NOT_FOUND, f"No MLflow endpoint {request.path} here."), status=404)
