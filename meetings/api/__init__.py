"""Bookend's JSON API, /api/v1/ (django-ninja): the same services, rules and access
helpers as the pages, answered in JSON. One module per area, each with its router:
`meetings` (teams, meetings, attendees), `agenda`, `recap` (draft, decisions and
action items while drafted, publish, acknowledge), `action_items` (once out).

Errors have one shape, `{"errors": [{"message": ..., "field": ...}]}`: a broken
rule (`RuleBroken`) is a 422 with one entry per rule, input that is not what the
schema says a 422 per problem, another team's object (or a path no operation
matches) a 404, a member without the right or a read-only token on a write a 403,
too many requests a 429 with Retry-After.
The OpenAPI 3 schema is at /api/v1/openapi.json and the interactive docs at
/api/v1/docs, rendered from django-ninja's own static files (it is in
INSTALLED_APPS; without that it would load Swagger UI from a CDN). Its links say
where a created object's id goes next.
"""

from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views import defaults
from ninja import NinjaAPI
from ninja.errors import HttpError, Throttled
from ninja.errors import ValidationError as InputError

from . import action_items, agenda, meetings, recap


class BookendAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        # The view's name ("create_meeting"): OpenAPI links refer to operations by it.
        return operation.view_func.__name__


api = BookendAPI(
    title="Bookend API",
    version="1",
    urls_namespace="api",
    description="Meetings bookended by an agenda and a recap. Authenticate with a personal "
    "access token from your profile page: `Authorization: Bearer <token>`.",
)
for module in (meetings, agenda, recap, action_items):
    api.add_router("", module.router)


def errors(request: HttpRequest, status: int, *problems: tuple[str, str | None]) -> HttpResponse:
    body = {"errors": [{"message": message, "field": field} for message, field in problems]}
    return api.create_response(request, body, status=status)


@api.exception_handler(ValidationError)
def rule_broken(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """A rule refused the change (RuleBroken), or a model's full_clean: one entry each."""
    if hasattr(error, "error_dict"):
        problems = [
            (message, None if field == "__all__" else field)
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    else:
        problems = [(message, None) for message in error.messages]
    return errors(request, 422, *problems)


@api.exception_handler(InputError)
def bad_input(request: HttpRequest, error: InputError) -> HttpResponse:
    return errors(
        request,
        422,
        *[
            (
                problem.get("msg", "Invalid value."),
                ".".join(str(p) for p in problem.get("loc", ())),
            )
            for problem in error.errors
        ],
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return errors(request, 404, ("Not found.", None))


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return errors(request, 403, (str(error) or "You may not do that.", None))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    response = errors(request, error.status_code, (str(error), None))
    if isinstance(error, Throttled) and error.wait is not None:
        # Whole seconds, as RFC 9110 wants.
        response["Retry-After"] = str(math.ceil(error.wait))
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a path no URL pattern matches (handler404): in the API's error
    shape under /api/v1/ (`/meetings/-1/`, `/meetings/abc/`), the site's page elsewhere."""
    if request.path.startswith(reverse("api:api-root")):
        return JsonResponse({"errors": [{"message": "Not found.", "field": None}]}, status=404)
    return defaults.page_not_found(request, exception)
