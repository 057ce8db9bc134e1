"""The REST API (django-ninja): /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="Lead Refinery API",
    version="1",
    description="Intake inquiries and read leads. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `refinery token create --user NAME`).",
    urls_namespace="api",
)
