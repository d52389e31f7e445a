"""Reading settings from the environment, with errors that name what is missing."""

import os

from django.core.exceptions import ImproperlyConfigured

PRODUCTION = "production"


def environment_name() -> str:
    """`production` on a real deployment, `development` otherwise (the default)."""
    return os.environ.get("PLATFORM_ENV", "development").strip().lower() or "development"


def is_production() -> bool:
    return environment_name() == PRODUCTION


def env_str(name: str, default: str | None = None, *, required_in_production: bool = False) -> str:
    """A string setting; in production a required one that is missing stops start-up."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if required_in_production and is_production():
        raise ImproperlyConfigured(
            f"The environment variable {name} must be set in production (PLATFORM_ENV=production). "
            "See the README's Configuration section."
        )
    return default if default is not None else ""


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"The environment variable {name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"The environment variable {name} must be a whole number, not {value!r}.") from exc
