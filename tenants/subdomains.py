"""What a clinic's subdomain may be, and the schema name derived from it (never raw input)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# A DNS label we accept: lowercase letters, digits and inner hyphens, 3 to 30 characters, starting
# with a letter. The schema name replaces hyphens with underscores, so it always matches
# SCHEMA_NAME_RE; subdomains cannot hold underscores, so two subdomains never share a schema.
SUBDOMAIN_RE = re.compile(r"^[a-z](?:[a-z0-9-]{1,28})[a-z0-9]$")
SCHEMA_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

RESERVED_SUBDOMAINS = frozenset(
    {
        "www",
        "admin",
        "api",
        "console",
        "static",
        "media",
        "public",
        "app",
        "apps",
        "assets",
        "auth",
        "account",
        "accounts",
        "billing",
        "blog",
        "cdn",
        "dashboard",
        "dev",
        "docs",
        "email",
        "ftp",
        "help",
        "imap",
        "info",
        "localhost",
        "login",
        "logout",
        "mail",
        "mx",
        "ns1",
        "ns2",
        "operator",
        "platform",
        "pop",
        "portal",
        "root",
        "signup",
        "smtp",
        "staging",
        "status",
        "support",
        "sync",
        "system",
        "template",
        "test",
        "webmail",
        "information-schema",
        "clinic-template",
        "healthz",
    }
)


def normalize_subdomain(value: str) -> str:
    return value.strip().lower()


def validate_subdomain(value: str) -> None:
    """Raise a ValidationError a person understands if `value` cannot be a clinic's subdomain."""
    if not SUBDOMAIN_RE.fullmatch(value) or "--" in value:
        raise ValidationError(
            _(
                "Use 3 to 30 lowercase letters, digits or hyphens, starting with a letter and not "
                "ending with a hyphen (for example: klinik-sehat)."
            ),
            code="malformed",
        )
    if value in RESERVED_SUBDOMAINS or value.startswith(("pg-", "xn--")):
        raise ValidationError(_("This address is reserved. Please choose another."), code="reserved")


def schema_name_for(subdomain: str) -> str:
    """The PostgreSQL schema of a clinic: derived from a validated subdomain only."""
    validate_subdomain(subdomain)
    schema_name = subdomain.replace("-", "_")
    if not SCHEMA_NAME_RE.fullmatch(schema_name):  # unreachable by construction; kept as a guard
        raise ValidationError(_("This address cannot be used."), code="malformed")
    return schema_name
