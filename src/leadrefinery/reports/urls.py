"""Report pages, the dashboard and the costs page."""

from django.urls import path

from . import views

urlpatterns = [
    path("dashboard", views.dashboard, name="dashboard"),
    path("reports/", views.report_index, name="report-index"),
    path("reports/costs", views.costs_page, name="report-costs"),
    path("reports/costs/add", views.cost_add, name="report-cost-add"),
    path("reports/costs/<int:pk>/void", views.cost_void, name="report-cost-void"),
    path("reports/costs/rates", views.rate_set, name="report-rate-set"),
    path("reports/<slug:slug>.csv", views.report_csv, name="report-csv"),
    path("reports/<slug:slug>.json", views.report_json, name="report-json"),
    path("reports/<slug:slug>", views.report_page, name="report-page"),
]
