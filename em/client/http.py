"""`Client`: one `requests.Session` speaking to `<host>/api/v1/` with a bearer key.

It exists so that the CLI and the SDK never handle HTTP details: every answer is parsed JSON, and every
failure (an error answer, a non-EM answer, no answer at all) is a `ClientError` whose message can be shown
as it is. Pagination is followed here, once, for every list endpoint.
"""

from __future__ import annotations

import json as jsonlib
import socket
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

import requests

from em.client.config import Config
from em.client.errors import HINTS, ClientError, Throttled, Unreachable, for_status
from em.client.version import __version__

API_PREFIX = "/api/v1/"
# (connect, read) seconds: fail fast on a wrong host, but give a busy server time to answer.
DEFAULT_TIMEOUT = (10.0, 60.0)

Params = Mapping[str, str | int]
_NO_BODY = object()  # a body that is empty or not JSON, as opposed to JSON `null`


class Client:
    """Authenticated JSON requests to one EM server. Use as a context manager to close the session."""

    def __init__(
        self,
        host: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.api_root = self.host + API_PREFIX
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                "User-Agent": f"em-client/{__version__}",
            }
        )

    @classmethod
    def from_config(cls, config: Config, **kwargs: Any) -> Client:
        """A client for the configured server; NotSignedIn when host or key is missing."""
        host, api_key = config.require()
        return cls(host, api_key, **kwargs)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        """The absolute URL of an API path such as `nodes/resolve`."""
        return self.api_root + path.lstrip("/")

    def request(
        self, method: str, path: str, *, params: Params | None = None, json: Any = None, nan_tokens: bool = False
    ) -> Any:
        """Send one request; the decoded JSON body (None for an empty one), or a ClientError.

        With `nan_tokens`, NaN and ±infinity in `json` travel as the tokens `NaN`, `Infinity`, `-Infinity`
        (which strict JSON lacks): only for endpoints that read them as data, like live metrics.
        """
        if nan_tokens:
            body = jsonlib.dumps(json, allow_nan=True, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json"}
            return self._decode(self._send(method, path, params=params, data=body, headers=headers))
        return self._decode(self._send(method, path, params=params, json=json))

    def transfer(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: frozenset[int] = frozenset(),
    ) -> requests.Response:
        """Send raw bytes or fetch a raw body (blobs, files, CSV); the response is left streaming.

        A success, or a status listed in `ok_statuses` (e.g. 404 from `HEAD` on a partial blob), is
        returned unread for the caller to consume and close; any other failure is the ClientError that
        `request` would raise.
        """
        response = self._send(method, path, params=params, data=data, headers=headers, stream=True)
        if response.ok or response.status_code in ok_statuses:
            return response
        with response:
            self._fail(response)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.url(path)
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            seconds = self.timeout[0] if isinstance(exc, requests.ConnectTimeout) else self.timeout[1]
            raise Unreachable(None, "timeout", f"Cannot reach {self.host}: no answer within {seconds:g} s.") from exc
        except requests.exceptions.SSLError as exc:
            raise Unreachable(None, "tls", f"Cannot reach {self.host}: TLS failed ({_reason(exc)}).") from exc
        except requests.ConnectionError as exc:
            raise Unreachable(None, "unreachable", f"Cannot reach {self.host}: {_reason(exc)}.") from exc
        except requests.RequestException as exc:  # e.g. an invalid URL in the configuration
            raise Unreachable(None, "bad_request", f"Cannot send a request to {url}: {exc}.") from exc

    def get(self, path: str, params: Params | None = None) -> Any:
        return self.request("GET", path, params=params)

    def paginate(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list (`{count, next, previous, results}`), page after page.

        Only the query of the server's `next` link is used, against our own host: behind a proxy the
        server may build links with the wrong scheme or host, and the key must never go elsewhere.
        """
        query: dict[str, str | int] = dict(params or {})
        while True:
            page = self.get(path, query)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise ClientError(None, "bad_response", f"{self.url(path)} did not answer a paginated list.")
            yield from page["results"]
            next_link = page.get("next")
            if not next_link:
                return
            query = dict(parse_qsl(urlsplit(next_link).query, keep_blank_values=True))

    def _decode(self, response: requests.Response) -> Any:
        try:
            body = response.json() if response.content else _NO_BODY
        except ValueError:
            body = _NO_BODY
        if response.ok:
            if not response.content:
                return None
            if body is _NO_BODY:
                raise ClientError(
                    response.status_code,
                    "bad_response",
                    f"{self.host} did not answer like an EM server (no JSON from {response.url}).",
                )
            return body
        self._fail(response, body)

    def _fail(self, response: requests.Response, body: Any = _NO_BODY) -> NoReturn:
        """Raise the ClientError for an error answer, with EM's error body when there is one."""
        if body is _NO_BODY:
            try:
                body = response.json() if response.content else _NO_BODY
            except ValueError:
                body = _NO_BODY
        error_class = for_status(response.status_code)
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            code, message, detail = "http_error", self._http_failure(response), None
        else:
            code = str(error.get("code") or "error")
            message = str(error.get("message") or self._http_failure(response))
            detail = error.get("detail")
        if error_class is Throttled:
            wait = _retry_after(response)
            if wait is not None:
                message = f"{message} Try again in {wait} s."
            raise Throttled(response.status_code, code, message, detail, retry_after=wait)
        raise error_class(response.status_code, code, message, detail)

    def _http_failure(self, response: requests.Response) -> str:
        """A sentence for an error answer without EM's error body (a proxy's page, a wrong host), with
        what to do about it when the status says."""
        answered = f"{self.host} answered {response.status_code} {response.reason or ''}".rstrip() + "."
        hint = HINTS.get(response.status_code)
        return f"{answered} {hint}" if hint else answered


def _retry_after(response: requests.Response) -> int | None:
    """Seconds from a `Retry-After: <seconds>` header (the form EM sends); None when absent or a date."""
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isdigit() else None


def _reason(exc: BaseException) -> str:
    """The socket-level cause of a requests/urllib3 connection error ("Connection refused"...).

    requests wraps urllib3's MaxRetryError, whose `reason` wraps the OSError that matters; the message
    of the outer exceptions is a wall of object reprs, so dig for the innermost OS error instead.
    """
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if type(current).__module__ in {"builtins", "socket", "ssl"} and isinstance(current, OSError):
            return _os_message(current)
        for nested in (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args):
            if isinstance(nested, BaseException):
                stack.append(nested)
    return "the connection failed"


def _os_message(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    return exc.strerror or str(exc) or type(exc).__name__
