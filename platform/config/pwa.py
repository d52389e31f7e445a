"""Serving the clinic app (the PWA built into pwa/dist) at /app/ of a clinic's host, with its manifest.

The shell holds no data (records live in the device's IndexedDB and come through the sync API), so it
is served to anyone; the app itself sends a signed-out person to the login page. Hashed assets are
cached for a year; index.html and sw.js are revalidated on every load so an update is noticed.

The build writes a brotli (`.br`) and a gzip (`.gz`) copy beside each compressible file; a client that
accepts one gets it (brotli first) with `Content-Encoding`, a client that accepts neither the file
itself. A copy older than its file (the file was replaced after the build) is never served.
"""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils._os import safe_join
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))  # preferred first
FAVICON = "icons/icon-192.png"


def _file(request: HttpRequest, relative: str, cache_control: str) -> HttpResponse:
    dist = Path(settings.PWA_DIST)
    if not (dist / "index.html").exists():
        return HttpResponse(
            "The clinic app is not built. Run `make pwa` (make run and make test do it).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    try:
        path = Path(safe_join(str(dist), relative))
    except ValueError as exc:
        raise Http404 from exc
    if not path.is_file():
        raise Http404
    content_type = "application/manifest+json" if path.suffix == ".webmanifest" else mimetypes.guess_type(path.name)[0]
    variants = _compressed_copies(path)
    accepted = _accepted_encodings(request.headers.get("Accept-Encoding", ""))
    encoding, served = next(((name, copy) for name, copy in variants if name in accepted), (None, path))
    response = FileResponse(
        served.open("rb"), content_type=content_type or "application/octet-stream", filename=path.name
    )
    if encoding:
        response["Content-Encoding"] = encoding
    if variants:
        patch_vary_headers(response, ("Accept-Encoding",))
    response["Cache-Control"] = cache_control
    return response


def _compressed_copies(path: Path) -> list[tuple[str, Path]]:
    """The build's compressed copies of `path` that are not older than it, preferred first."""
    modified = path.stat().st_mtime
    copies = [(name, path.with_name(path.name + suffix)) for name, suffix in PRECOMPRESSED]
    return [(name, copy) for name, copy in copies if copy.is_file() and copy.stat().st_mtime >= modified]


def _accepted_encodings(header: str) -> set[str]:
    """The content codings an Accept-Encoding header allows (those not refused with q=0)."""
    accepted = set()
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        weights = [param[2:] for param in params if param.lower().startswith("q=")]
        try:
            allowed = not weights or float(weights[0]) > 0
        except ValueError:
            allowed = False
        if name and allowed:
            accepted.add(name.lower())
    return accepted


@require_GET
def shell(request: HttpRequest) -> HttpResponse:
    return _file(request, "index.html", REVALIDATE)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = _file(request, "sw.js", REVALIDATE)
    response["Service-Worker-Allowed"] = "/app/"
    return response


@require_GET
def asset(request: HttpRequest, path: str) -> HttpResponse:
    return _file(request, f"assets/{path}", IMMUTABLE)


@require_GET
def icon(request: HttpRequest, path: str) -> HttpResponse:
    return _file(request, f"icons/{path}", "public, max-age=86400")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The app's icon at /favicon.ico, on the apex and every clinic's host (browsers ask for it)."""
    if not (Path(settings.PWA_DIST) / FAVICON).is_file():
        raise Http404
    return _file(request, FAVICON, "public, max-age=86400")


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, named after the clinic of this host."""
    name = request.tenant.name
    response = JsonResponse(
        {
            "name": name,
            "short_name": name[:12],
            "id": "/app/",
            "start_url": "/app/",
            "scope": "/app/",
            "display": "standalone",
            "background_color": "#f9fafb",
            "theme_color": "#0f766e",
            "icons": [
                {"src": "/app/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": "/app/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
            ],
        },
        content_type="application/manifest+json",
    )
    response["Cache-Control"] = REVALIDATE
    return response
