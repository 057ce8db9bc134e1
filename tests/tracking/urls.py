"""The site under test for the browser journey: five product pages carrying the snippet,
served by the live server next to the application itself."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def product_page(request: HttpRequest, n: int) -> HttpResponse:
    return HttpResponse(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>Press {n}</title>
        <script src="/t/snippet.js" async></script></head>
        <body><h1>Press model {n}</h1><a href="/shop/{n + 1}/">Next</a></body></html>"""
    )


urlpatterns = [
    path("shop/<int:n>/", product_page),
    path("", include("leadrefinery.urls")),
]
