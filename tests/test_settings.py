"""Settings come from the environment; production refuses to start without what it needs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.sentry import scrub_event

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = {
    "PLATFORM_ENV": "production",
    "SECRET_KEY": "k3v9-Qz!p2Lr8#Wm5tYb7@Nc1^Hd6&Jf0*Sg4(Xa)Ue_Vi=Ko+Pq",
    "DATABASE_URL": "postgres://u:p@127.0.0.1:1/db",
    "PLATFORM_DOMAIN": "klinik.example.com",
    "EMAIL_HOST": "smtp.example.com",
    "SATUSEHAT_SECRET_KEYS": "a-long-random-secret-for-satusehat-credentials-2026",
}


def _production_env(env_overrides: dict[str, str | None]) -> dict[str, str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set in this process for Playwright (tests/browser); never in production.
    dropped = {*PRODUCTION_ENV, "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update({k: v for k, v in {**PRODUCTION_ENV, **env_overrides}.items() if v is not None})
    env["PYTHONPATH"] = str(ROOT / "platform")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return env


def _start(env_overrides: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    code = "import django; django.setup(); from django.conf import settings; print(settings.ALLOWED_HOSTS)"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_production_env(env_overrides),
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_passes_django_deploy_checks():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env({}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_collectstatic_works_as_on_a_heroku_build(tmp_path):
    code = (
        "import django, sys; from django.conf import settings; django.setup(); "
        f"settings.STATIC_ROOT = {str(tmp_path)!r}; "
        "from django.core.management import call_command; call_command('collectstatic', interactive=False, verbosity=0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_production_env({}), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("css/app.*.css"))


def test_production_starts_with_every_setting():
    result = _start({})
    assert result.returncode == 0, result.stderr
    assert "['klinik.example.com', '.klinik.example.com']" in result.stdout


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "PLATFORM_DOMAIN", "EMAIL_HOST", "SATUSEHAT_SECRET_KEYS"]
)
def test_production_stops_naming_the_missing_setting(missing):
    result = _start({missing: None})
    assert result.returncode != 0
    assert f"The environment variable {missing} must be set in production" in result.stderr


def test_debug_is_refused_in_production():
    result = _start({"DEBUG": "true"})
    assert result.returncode != 0
    assert "DEBUG must not be true in production" in result.stderr


def test_allowed_hosts_are_never_a_wildcard():
    from django.conf import settings

    assert "*" not in settings.ALLOWED_HOSTS
    assert settings.SESSION_COOKIE_DOMAIN is None  # host-only cookies


def test_sentry_event_is_scrubbed_of_personal_and_patient_data():
    event = {
        "request": {
            "url": "https://alpha.klinik.example.com/api/patients/",
            "data": {"name": "Siti Aminah", "nik": "3174000000000001"},
            "cookies": {"sessionid": "abc"},
            "headers": {"Cookie": "sessionid=abc"},
            "query_string": "q=Siti",
        },
        "user": {"id": 7, "email": "doctor@alpha.test", "ip_address": "10.0.0.1"},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "f", "vars": {"patient": "Siti"}}]}}]},
        "breadcrumbs": {"values": [{"message": "SELECT ... 'Siti'"}]},
    }
    scrubbed = scrub_event(event)
    flat = repr(scrubbed)
    for secret in ("Siti", "3174000000000001", "abc", "doctor@alpha.test", "10.0.0.1"):
        assert secret not in flat
    assert scrubbed["user"] == {"id": 7}
    assert scrubbed["request"]["url"].endswith("/api/patients/")


def test_sentry_is_initialised_only_with_a_dsn():
    result = _start({"SENTRY_DSN": "https://key@o0.ingest.sentry.io/1"})
    assert result.returncode == 0, result.stderr
    code = "import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "platform"), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("SENTRY_DSN", None)
    inactive = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert inactive.stdout.strip() == "False", inactive.stderr
