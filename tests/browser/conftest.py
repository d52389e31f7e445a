"""Browser fixtures: the real app under gunicorn on a free port, and Chromium driven by Playwright.

The server process uses the test database that pytest-django created, so it sees the session's committed
clinics (`alpha`, `beta`). Browsers reach `<clinic>.localhost:<port>`, which Chromium resolves to loopback.
"""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.db import connection

from tests.browser.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, gunicorn

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the fixtures are
# still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="")
    auth = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgresql://{auth}@{host}{port}/{db['NAME']}"


@pytest.fixture(scope="session")
def pwa_dist(tmp_path_factory) -> Path:
    """A copy of the built app for the server, so a test can "deploy" a new version of it."""
    built = ROOT / "pwa" / "dist"
    if not (built / "sw.js").exists():
        pytest.fail("The app is not built: run `make pwa` (make test does).")
    copy = tmp_path_factory.mktemp("pwa") / "dist"
    shutil.copytree(built, copy)
    return copy


@pytest.fixture(scope="session")
def live_url(platform_world, pwa_dist, django_db_blocker) -> Iterator[str]:
    """Base URL pattern of a gunicorn server on the test database: format with the host prefix."""
    with django_db_blocker.unblock():
        # Browser tests share the server's cache (rate limits of sign-ins and signups from 127.0.0.1);
        # start them from an empty one, whatever earlier runs left in Redis.
        cache.clear()
    port = free_port()
    env = {
        "PWA_DIST": str(pwa_dist),
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": _database_url(),
    }
    with gunicorn(port=port, env=env, log_path=ROOT / ".pytest-gunicorn.log"):
        yield f"http://{{}}localhost:{port}"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is needed for the browser tests at {CHROMIUM} (make test installs it).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
