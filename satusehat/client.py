"""A small HTTP client for SATUSEHAT's API: its token, NIK lookups and FHIR create, update and search.

The access token is kept (encrypted) on the clinic's `Connection` row, so every worker process shares
it; it is renewed a minute before it expires, and once more when SATUSEHAT answers 401 to a call made
with it. Failures come back as three exceptions the sender acts on: `Retryable` (the network, a
timeout, 5xx, 429: try again later, after `retry_after` when SATUSEHAT said so), `Refused` (SATUSEHAT
refused what was sent, with its own words) and `NotConnected` (no usable credentials).

The client secret is never in an exception's message, a log line or a repr: logs say only the method,
the path (no query: it may hold a NIK) and the status.
"""

import datetime
import logging
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from satusehat import secrets
from satusehat.fhir import SYSTEM_NIK
from satusehat.models import Connection, IhsNumber
from satusehat.reasons import deferred

logger = logging.getLogger("satusehat.client")

# Renew the token this long before SATUSEHAT's expiry, so no call is made with one about to lapse.
TOKEN_MARGIN = datetime.timedelta(minutes=1)
# A NIK SATUSEHAT did not know is asked again after this long (the person may register meanwhile).
UNKNOWN_NIK_RECHECK = datetime.timedelta(days=1)


class SatusehatError(Exception):
    """Something kept a call to SATUSEHAT from succeeding; `message` is for people (a deferred text,
    `satusehat.reasons`: it reads in the language of whoever reads it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotConnected(SatusehatError):  # noqa: N818 (the sender reads these names as outcomes)
    """The clinic has no connection, its secret cannot be read, or SATUSEHAT refused its credentials."""


class Retryable(SatusehatError):  # noqa: N818
    """Try again later: the network, a timeout, SATUSEHAT's own trouble (5xx) or its rate limit (429)."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status  # the HTTP status, None for the network or a timeout

    @property
    def rate_limited(self) -> bool:
        """SATUSEHAT asked us to slow down (429): not a failure of the visit being sent."""
        return self.status == 429


class Refused(SatusehatError):  # noqa: N818
    """SATUSEHAT refused the request (4xx): sending it again as it is would be refused again."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _timeout() -> float:
    return float(settings.SATUSEHAT_TIMEOUT_SECONDS)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, or nothing: the sender's own backoff applies


def outcome_message(response: requests.Response) -> str:
    """SATUSEHAT's words from an OperationOutcome (details.text, else diagnostics), or the status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    texts: list[str] = []
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        for issue in body.get("issue") or []:
            text = (issue.get("details") or {}).get("text") or issue.get("diagnostics") or ""
            if text and text not in texts:
                texts.append(str(text))
    if texts:
        return "; ".join(texts)[:2000]
    return deferred("SATUSEHAT refused the request (HTTP %(status)s).", status=response.status_code)


class Client:
    """SATUSEHAT for the clinic whose schema is in use. One per send; not shared between threads."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        urls = settings.SATUSEHAT_URLS[connection.environment]
        self.auth_url = urls["auth"].rstrip("/")
        self.fhir_url = urls["fhir"].rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self._token: tuple[str, datetime.datetime] | None = None  # this client's copy of the kept token
        self.answered = False  # SATUSEHAT answered a call (not with 5xx or 429): it is up

    def __repr__(self) -> str:
        return f"<satusehat.Client {self.connection.environment} org={self.connection.organization_id}>"

    @classmethod
    def for_clinic(cls) -> "Client":
        """The client of the clinic in use; NotConnected when it has no connection."""
        connection = Connection.objects.order_by("pk").first()
        if connection is None:
            raise NotConnected(deferred("SATUSEHAT is not connected yet: the owner enters the clinic's credentials."))
        return cls(connection)

    def close(self) -> None:
        self.session.close()

    # --- the token ---------------------------------------------------------------------------------
    def token(self, *, renew: bool = False) -> str:
        """A valid access token: the one kept on the connection while it lasts, else a new one."""
        now = timezone.now()
        if not renew and self._token and self._token[1] - TOKEN_MARGIN > now:
            return self._token[0]
        if not renew:
            stored = Connection.objects.filter(pk=self.connection.pk).values_list("token_encrypted", "token_expires_at")
            for encrypted, expires_at in stored:
                token = secrets.decrypt(encrypted)
                if token and expires_at and expires_at - TOKEN_MARGIN > now:
                    self._token = (token, expires_at)
                    return token
        return self._new_token()

    def _new_token(self) -> str:
        secret = secrets.decrypt(self.connection.client_secret_encrypted)
        if not secret:
            raise NotConnected(
                deferred("The stored client secret can no longer be read (the encryption key changed): enter it again.")
            )
        url = f"{self.auth_url}/accesstoken"
        try:
            response = self.session.post(
                url,
                params={"grant_type": "client_credentials"},
                data={"client_id": self.connection.client_id, "client_secret": secret},
                timeout=_timeout(),
            )
        except requests.Timeout:
            self._log("POST", url, "timeout")
            raise Retryable(deferred("SATUSEHAT did not answer in time (sign-in).")) from None
        except requests.RequestException as exc:
            self._log("POST", url, type(exc).__name__)
            raise Retryable(
                deferred("SATUSEHAT could not be reached (sign-in): %(error)s.", error=type(exc).__name__)
            ) from None
        self._log("POST", url, response.status_code)
        self._note_answer(response)
        if response.status_code in (400, 401, 403):
            raise NotConnected(
                deferred(
                    "SATUSEHAT refused the client ID or client secret (%(environment)s). Check both in the "
                    "SATUSEHAT portal and enter them again.",
                    environment=Connection.Environment(self.connection.environment).label,
                )
            )
        self._raise_for_trouble(response, deferred("sign-in"))
        try:
            body = response.json()
            token = str(body["access_token"])
            seconds = int(float(body.get("expires_in") or 0))
        except (ValueError, KeyError, TypeError):
            raise Retryable(deferred("SATUSEHAT's sign-in answer could not be read.")) from None
        expires_at = timezone.now() + datetime.timedelta(seconds=seconds)
        # Kept only while the credentials it was asked with are the stored ones (the owner may have
        # saved others meanwhile: their token was dropped, and this one must not come back).
        Connection.objects.filter(
            pk=self.connection.pk,
            environment=self.connection.environment,
            client_id=self.connection.client_id,
            client_secret_encrypted=self.connection.client_secret_encrypted,
        ).update(token_encrypted=secrets.encrypt(token), token_expires_at=expires_at)
        self.connection.token_expires_at = expires_at
        self._token = (token, expires_at)
        return token

    def _forget_token(self, token: str) -> None:
        """SATUSEHAT no longer takes this token: drop it, unless another worker already renewed it."""
        self._token = None
        for pk, encrypted in Connection.objects.filter(pk=self.connection.pk).values_list("pk", "token_encrypted"):
            if secrets.decrypt(encrypted) == token:
                Connection.objects.filter(pk=pk).update(token_encrypted="", token_expires_at=None)

    # --- FHIR calls ----------------------------------------------------------------------------------
    def search_by_nik(self, kind: str, nik: str) -> str | None:
        """The IHS number of a patient or practitioner ("Patient"/"Practitioner") with this NIK, or None
        when SATUSEHAT does not know it. Kept: a known number is not asked again, an unknown one after
        a day."""
        now = timezone.now()
        known = IhsNumber.objects.filter(kind=kind, nik=nik).first()
        if known is not None and (known.ihs_number or known.looked_up_at > now - UNKNOWN_NIK_RECHECK):
            return known.ihs_number or None
        bundle = self._call("GET", f"/{kind}", params={"identifier": f"{SYSTEM_NIK}|{nik}"})
        number = _first_id(bundle) or ""
        IhsNumber.objects.update_or_create(kind=kind, nik=nik, defaults={"ihs_number": number, "looked_up_at": now})
        return number or None

    def find_by_identifier(self, resource_type: str, system: str, value: str) -> str | None:
        """The id of the resource SATUSEHAT holds with this identifier, or None. Only a resource that
        carries the identifier counts: a server that ignored the search would otherwise hand back another
        resource (another patient's) for us to overwrite."""
        bundle = self._call("GET", f"/{resource_type}", params={"identifier": f"{system}|{value}"})
        return _first_id(bundle, holding=(system, value))

    def create(self, resource_type: str, resource: dict) -> str:
        """Create a resource; the id SATUSEHAT gave it."""
        created = self._call("POST", f"/{resource_type}", json=resource)
        remote_id = created.get("id") if isinstance(created, dict) else None
        if not remote_id:
            raise Retryable(deferred("SATUSEHAT's answer to a new %(type)s had no id.", type=resource_type))
        return str(remote_id)

    def update(self, resource_type: str, remote_id: str, resource: dict) -> None:
        """Replace a resource SATUSEHAT holds (the resource is sent with its id)."""
        self._call("PUT", f"/{resource_type}/{remote_id}", json={**resource, "id": remote_id})

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        token = self.token()
        response = self._request(method, path, token, **kwargs)
        if response.status_code == 401:
            # The token expired early or was revoked: a new one, and the call once more.
            self._forget_token(token)
            response = self._request(method, path, self.token(renew=True), **kwargs)
            if response.status_code == 401:
                # The credentials work (a token was just issued): SATUSEHAT's sign-in is out of step.
                raise Retryable(deferred("SATUSEHAT refused the clinic's access token right after issuing it."))
        self._raise_for_trouble(response, path)
        if 400 <= response.status_code < 500:
            raise Refused(outcome_message(response), response.status_code)
        try:
            return response.json()
        except ValueError:
            raise Retryable(deferred("SATUSEHAT's answer could not be read (%(path)s).", path=path)) from None

    def _request(self, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
        url = f"{self.fhir_url}{path}"
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = self.session.request(method, url, headers=headers, timeout=_timeout(), **kwargs)
        except requests.Timeout:
            self._log(method, url, "timeout")
            raise Retryable(
                deferred("SATUSEHAT did not answer in time (%(method)s %(path)s).", method=method, path=path)
            ) from None
        except requests.RequestException as exc:
            self._log(method, url, type(exc).__name__)
            raise Retryable(
                deferred(
                    "SATUSEHAT could not be reached (%(method)s %(path)s): %(error)s.",
                    method=method,
                    path=path,
                    error=type(exc).__name__,
                )
            ) from None
        self._log(method, url, response.status_code)
        self._note_answer(response)
        return response

    def _note_answer(self, response: requests.Response) -> None:
        if response.status_code < 500 and response.status_code != 429:
            self.answered = True

    def _raise_for_trouble(self, response: requests.Response, what: str) -> None:
        """429 and 5xx: try again later (after Retry-After when given)."""
        if response.status_code == 429:
            raise Retryable(
                deferred("SATUSEHAT asked to slow down (%(what)s).", what=what), _retry_after(response), 429
            )
        if response.status_code >= 500:
            raise Retryable(
                deferred(
                    "SATUSEHAT had trouble answering (HTTP %(status)s, %(what)s).",
                    status=response.status_code,
                    what=what,
                ),
                _retry_after(response),
                response.status_code,
            )

    @staticmethod
    def _log(method: str, url: str, status: object) -> None:
        logger.info("SATUSEHAT %s %s -> %s", method, urlsplit(url).path, status)


def _first_id(bundle: Any, holding: tuple[str, str] | None = None) -> str | None:
    """The first resource's id in a search's Bundle; with `holding`, the first carrying that identifier."""
    if not isinstance(bundle, dict):
        return None
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if holding is not None:
            held = {(i.get("system"), i.get("value")) for i in resource.get("identifier") or [] if isinstance(i, dict)}
            if holding not in held:
                continue
        if resource.get("id"):
            return str(resource["id"])
    return None
