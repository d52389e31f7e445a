"""Template context shared by every page: the clinic of the host and the platform's name."""

from django.conf import settings
from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name


def platform(request: HttpRequest) -> dict[str, object]:
    tenant = getattr(request, "tenant", None)
    is_clinic = tenant is not None and tenant.schema_name != get_public_schema_name()
    return {
        "clinic": tenant if is_clinic else None,
        "platform_domain": settings.PLATFORM_DOMAIN,
    }
