"""Access helper for the console: signed-in platform operators only (users of the public schema)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.tenant.schema_name != get_public_schema_name():
            raise Http404
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise Http404  # not an operator: the console does not exist for them
        return view(request, *args, **kwargs)

    return wrapper
