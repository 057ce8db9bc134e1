"""Weekly review pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("review/", views.review_home, name="review-home"),
    path("review/open/", views.review_open, name="review-open"),
    path("review/<int:pk>/", views.review_detail, name="review-detail"),
    path("review/<int:pk>/meet/", views.review_meet, name="review-meet"),
    path("review/<int:pk>/decide/<int:lead_id>/", views.review_decide, name="review-decide"),
    path("review/<int:pk>/sign-off/", views.review_sign_off, name="review-sign-off"),
    path("review/<int:pk>/export.csv", views.review_export, name="review-export"),
]
