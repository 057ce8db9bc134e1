"""Public inquiry forms, mounted at /f/ (no login; embeddable on other sites)."""

from django.urls import path

from . import views_public

urlpatterns = [
    path("<slug:slug>/", views_public.form_page, name="public-form"),
    path("<slug:slug>/thanks/", views_public.form_thanks, name="public-form-thanks"),
    path("<slug:slug>/embed.js", views_public.form_embed_js, name="public-form-embed"),
]
