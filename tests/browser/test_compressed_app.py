"""The app's files as the build compressed them: each brotli and gzip copy decodes to its file, the
precache lists only the files themselves, and the service worker precaches the decoded files.

These tests run at a clinic of their own (`gzapp`), whose device the live server commits for real.
"""

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD, _make_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

COMPRESSED = re.compile(r"\.(html|js|css|json)$")
SHA256_OF_CACHED = """async (url) => {
  const cached = await caches.match(url);
  const digest = await crypto.subtle.digest('SHA-256', await cached.arrayBuffer());
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}"""


@pytest.fixture(scope="session")
def gzapp(platform_world, django_db_blocker):
    with django_db_blocker.unblock():
        return _make_clinic("gzapp", "Klinik Kompres")


def _precached(pwa_dist: Path) -> list[str]:
    return re.findall(r'"url":"([^"]+)"', (pwa_dist / "sw.js").read_text())


def _immutable_files(pwa_dist: Path) -> list[Path]:
    """index.html and the hashed assets: files no test replaces (one deploys a new sw.js)."""
    assets = [path for path in (pwa_dist / "assets").iterdir() if COMPRESSED.search(path.name)]
    return [pwa_dist / "index.html", *assets]


def test_the_precache_lists_only_the_files_themselves(pwa_dist):
    urls = _precached(pwa_dist)
    assert "/app/index.html" in urls
    assert any(re.fullmatch(r"/app/assets/icd10-\w+\.json", url) for url in urls)
    for url in urls:
        assert not url.endswith((".br", ".gz")), url
        assert (pwa_dist / url.removeprefix("/app/")).is_file(), url
    for path in _immutable_files(pwa_dist):
        for suffix in (".br", ".gz"):
            assert path.with_name(path.name + suffix).is_file(), f"no {suffix} copy of {path.name}"


@pytest.mark.parametrize(("accept", "encoding"), [("br", "br"), ("gzip", "gzip"), ("identity", None)])
def test_each_copy_decodes_to_its_file(page, live_url, gzapp, pwa_dist, accept, encoding):
    """Playwright's request client decodes brotli and gzip as a browser does (it does not resolve
    `*.localhost` itself, so it asks 127.0.0.1 for the clinic's host)."""
    host = urlsplit(live_url.format(f"{gzapp.subdomain}.")).netloc
    loopback = live_url.format("").replace("localhost", "127.0.0.1")
    for path in _immutable_files(pwa_dist):
        headers = {"Host": host, "Accept-Encoding": accept}
        response = page.request.get(f"{loopback}/app/{path.relative_to(pwa_dist)}", headers=headers)
        assert response.status == 200
        assert response.headers.get("content-encoding") == encoding, path.name
        assert "accept-encoding" in response.headers["vary"].lower()
        assert response.body() == path.read_bytes(), path.name


def test_the_service_worker_precaches_the_decoded_files(browser, live_url, gzapp, pwa_dist):
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(live_url.format(f"{gzapp.subdomain}.") + "/accounts/login/?next=/app/")
    page.fill("input[name=login]", gzapp.email("doctor"))
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_function("window.emr && emr.ready")
    page.evaluate("navigator.serviceWorker.ready")
    [table] = [url for url in _precached(pwa_dist) if "/icd10-" in url]
    cached = page.evaluate(SHA256_OF_CACHED, table)
    assert cached == hashlib.sha256((pwa_dist / table.removeprefix("/app/")).read_bytes()).hexdigest()
    context.close()
