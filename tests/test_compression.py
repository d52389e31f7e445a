"""Compression for slow links: JSON answers gzipped for clients that accept it (never one that carries the
CSRF token, never for another site), and the app's files sent as the build's brotli or gzip copies."""

import gzip
import json
import mimetypes
import os

import pytest
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory
from django_tenants.utils import schema_context

from config.middleware import JsonGZipMiddleware
from tenants.accounts.models import Role
from tenants.accounts.services import user_create
from tests.conftest import PASSWORD, host_client, login
from tests.records.conftest import make_patient

pytestmark = pytest.mark.django_db

ANY_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends


def _body(response: HttpResponse) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _vary(response: HttpResponse) -> set[str]:
    return {value.strip().lower() for value in response.get("Vary", "").split(",")}


@pytest.fixture
def doctor(alpha):
    for number in range(5):
        make_patient(alpha, full_name=f"Pasien Kompres {number}")
    return login(alpha.host, alpha.email("doctor"))


PULL = ("/api/sync/pull", {"cursor": 0, "limit": 100, "device_id": "dev-compression-1"})


@pytest.mark.parametrize(("path", "params"), [PULL, ("/api/patients/", {})])
def test_json_comes_gzipped_when_accepted_and_decodes_to_the_same(doctor, path, params):
    plain = doctor.get(path, params)
    # A browser without Sec-Fetch-Site (Safari before 16.4): the app's X-CSRFToken header marks its fetch.
    packed = doctor.get(path, params, HTTP_ACCEPT_ENCODING=ANY_ENCODING, HTTP_X_CSRFTOKEN="")
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "accept-encoding" in _vary(plain) & _vary(packed)
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content)
    assert json.loads(gzip.decompress(packed.content)) == json.loads(plain.content)


def test_the_pull_is_gzipped_for_the_app_itself(doctor):
    response = doctor.get(*PULL, HTTP_ACCEPT_ENCODING=ANY_ENCODING, HTTP_SEC_FETCH_SITE="same-origin")
    assert response["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.content))["changes"]) >= 5


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_no_compression_for_a_request_another_site_or_clinic_made(doctor, site):
    """Another clinic's subdomain is same-site: SameSite=Lax cookies would go along with its request."""
    response = doctor.get(*PULL, HTTP_ACCEPT_ENCODING=ANY_ENCODING, HTTP_SEC_FETCH_SITE=site)
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert {"accept-encoding", "sec-fetch-site"} <= _vary(response)


def test_no_compression_for_a_navigation_from_a_browser_that_does_not_say_where_it_came_from(doctor):
    """Without Sec-Fetch-Site (older Safari), a request without the app's X-CSRFToken header may be a
    cross-site navigation an attacker started, which SameSite=Lax lets carry the session cookie."""
    response = doctor.get(*PULL, HTTP_ACCEPT_ENCODING=ANY_ENCODING)
    assert response.status_code == 200
    assert len(response.content) > 200  # large enough that it would be compressed
    assert "Content-Encoding" not in response


def test_the_answer_carrying_the_csrf_token_is_not_compressed(alpha):
    # A long name, so the answer is over the 200 bytes below which nothing is compressed anyway.
    with schema_context(alpha.clinic.schema_name):
        name = "dr. " + "Nama Panjang " * 10
        user_create(email="panjang@alpha.test", full_name=name, role=Role.DOCTOR, password=PASSWORD)
    response = login(alpha.host, "panjang@alpha.test").get("/api/me/", HTTP_ACCEPT_ENCODING=ANY_ENCODING)
    assert response.status_code == 200
    assert len(response.content) > 200
    assert "Content-Encoding" not in response
    assert json.loads(response.content)["csrf_token"]
    assert settings.CSRF_COOKIE_NAME in response.cookies


def test_a_page_with_a_form_is_not_compressed(alpha):
    response = host_client(alpha.host).get("/accounts/login/", HTTP_ACCEPT_ENCODING=ANY_ENCODING)
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
    assert "Content-Encoding" not in response


@pytest.mark.parametrize(("sets_csrf_cookie", "compressed"), [(True, False), (False, True)])
def test_json_is_compressed_only_when_it_sets_no_csrf_cookie(sets_csrf_cookie, compressed):
    """The rule itself, on a body large enough to compress (the /api/me/ answer is near the 200-byte floor)."""
    response = JsonResponse({"csrf_token": "x" * 64, "rows": [{"name": "Siti Aminah"}] * 50})
    if sets_csrf_cookie:
        response.set_cookie(settings.CSRF_COOKIE_NAME, "secret")
    request = RequestFactory().get("/api/me/", HTTP_ACCEPT_ENCODING="gzip", HTTP_SEC_FETCH_SITE="same-origin")
    answer = JsonGZipMiddleware(lambda request: response)(request)
    assert (answer.get("Content-Encoding") == "gzip") is compressed


def test_only_json_is_compressed():
    response = HttpResponse("<p>" + "halo " * 200 + "</p>", content_type="text/html; charset=utf-8")
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in JsonGZipMiddleware(lambda request: response)(request)


# --- the app's files (platform/config/pwa.py) ------------------------------------------------------------

APP_JS = b"const greeting = 'Selamat pagi';\nconsole.log(greeting);\n" * 200
FILES = {
    "index.html": b"<!doctype html><html><head><title>Klinik</title></head><body></body></html>\n" * 20,
    "sw.js": b"self.addEventListener('fetch', () => {});\n" * 200,
    "assets/app-0123456789.js": APP_JS,
    "assets/icd10-0123456789.json": json.dumps([["A00", "Cholera"]] * 500).encode(),
}


def _brotli_stand_in(content: bytes) -> bytes:
    # The server sends the build's copy as it is; that the build's copies decode to their files is
    # checked in tests/browser/test_compressed_app.py (Python's standard library has no brotli).
    return b"brotli copy of " + content[:20]


@pytest.fixture
def dist(tmp_path, settings):
    """A built app with both compressed copies of each file, as `make pwa` writes it."""
    for name, content in FILES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(content, 9))
        path.with_name(path.name + ".br").write_bytes(_brotli_stand_in(content))
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "icon-192.png").write_bytes(b"\x89PNG not compressible")
    settings.PWA_DIST = tmp_path
    return tmp_path


def _get(alpha, path: str, accept_encoding: str | None) -> HttpResponse:
    headers = {} if accept_encoding is None else {"HTTP_ACCEPT_ENCODING": accept_encoding}
    return host_client(alpha.host).get(path, **headers)


@pytest.mark.parametrize(
    ("path", "name", "cache_control"),
    [
        ("/app/", "index.html", "no-cache"),
        ("/app/sw.js", "sw.js", "no-cache"),
        ("/app/assets/app-0123456789.js", "assets/app-0123456789.js", "public, max-age=31536000, immutable"),
        ("/app/assets/icd10-0123456789.json", "assets/icd10-0123456789.json", "public, max-age=31536000, immutable"),
    ],
)
@pytest.mark.parametrize(
    ("accept_encoding", "encoding"),
    [(ANY_ENCODING, "br"), ("gzip, deflate", "gzip"), ("br;q=0, gzip", "gzip"), ("identity", None), (None, None)],
)
def test_app_files_as_brotli_gzip_or_themselves(alpha, dist, path, name, cache_control, accept_encoding, encoding):
    raw = FILES[name]
    response = _get(alpha, path, accept_encoding)
    body = _body(response)
    assert response.status_code == 200
    assert response.get("Content-Encoding") == encoding
    assert response["Content-Type"].split(";")[0] == mimetypes.guess_type(name)[0]
    assert int(response["Content-Length"]) == len(body)
    assert response["Cache-Control"] == cache_control
    assert "accept-encoding" in _vary(response)
    if encoding == "br":
        assert body == _brotli_stand_in(raw)
    elif encoding == "gzip":
        assert gzip.decompress(body) == raw
    else:
        assert body == raw


def test_the_service_worker_keeps_its_scope_header_when_compressed(alpha, dist):
    response = _get(alpha, "/app/sw.js", ANY_ENCODING)
    assert response["Content-Encoding"] == "br"
    assert response["Service-Worker-Allowed"] == "/app/"


def test_a_copy_older_than_its_file_is_not_sent(alpha, dist):
    """A file replaced after the build (a deploy that copies files in) is sent itself, not a stale copy."""
    sw = dist / "sw.js"
    sw.write_bytes(FILES["sw.js"] + b"// release 2\n")
    copies_time = (dist / "sw.js.br").stat().st_mtime
    os.utime(sw, (copies_time + 10, copies_time + 10))
    response = _get(alpha, "/app/sw.js", "br")
    assert "Content-Encoding" not in response
    assert _body(response).endswith(b"// release 2\n")


def test_a_file_without_copies_is_sent_as_it_is(alpha, dist):
    response = _get(alpha, "/app/icons/icon-192.png", ANY_ENCODING)
    assert response["Content-Type"] == "image/png"
    assert "Content-Encoding" not in response
    assert _body(response) == b"\x89PNG not compressible"
