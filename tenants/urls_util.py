"""Absolute URLs of the platform and of a clinic, built from the request's scheme and port."""

from django.conf import settings
from django.http import HttpRequest


def _port_suffix(request: HttpRequest) -> str:
    host = request.get_host()
    return ":" + host.rsplit(":", 1)[1] if ":" in host else ""


def platform_url(request: HttpRequest, path: str = "/") -> str:
    return f"{request.scheme}://{settings.PLATFORM_DOMAIN}{_port_suffix(request)}{path}"


def clinic_url(request: HttpRequest, subdomain: str, path: str = "/") -> str:
    return f"{request.scheme}://{subdomain}.{settings.PLATFORM_DOMAIN}{_port_suffix(request)}{path}"
