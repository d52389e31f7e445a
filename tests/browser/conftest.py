"""Browser fixtures: the real app under gunicorn on a free port, and Chromium driven by Playwright.

The server process uses the test database that pytest-django created, so it sees the session's committed
clinics (`alpha`, `beta`). Browsers reach `<clinic>.localhost:<port>`, which Chromium resolves to loopback.
"""

import os
import shutil
import time
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
    # PWA_BUILT: an app built elsewhere (`PWA_OUT=... node build.mjs`), for engineers building side by side.
    built = Path(os.environ.get("PWA_BUILT") or ROOT / "pwa" / "dist")
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
    with django_db_blocker.unblock():
        _end_the_servers_sessions()


def _end_the_servers_sessions(wait: float = 2.0) -> None:
    """Before the test database is dropped ("is being accessed by other users" otherwise): PostgreSQL
    ends a stopped server's sessions a moment after its processes exit, so wait for them and end what
    is left idle; and Django's connection of the context this runs in (Playwright's greenlet has its
    own context, so its own connection, which nothing else closes) is closed."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    deadline = time.monotonic() + wait
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(f"SELECT count(*) {others} AND state <> 'idle'")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
        cursor.execute(f"SELECT count(pg_terminate_backend(pid)) {others} AND state = 'idle'")
    connection.close()  # this context's own, when it is not the one pytest-django drops the database from


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
