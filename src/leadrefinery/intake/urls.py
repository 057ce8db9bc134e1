"""The staff pages of intake (login required)."""

from django.urls import path

from . import views, views_import

urlpatterns = [
    path("forms/", views.form_list, name="form-list"),
    path("import/", views_import.import_home, name="import-home"),
    path("import/uploads/<uuid:upload_id>/", views_import.import_upload, name="import-upload"),
    path("import/jobs/<int:job_id>/", views_import.import_job, name="import-job"),
    path(
        "import/jobs/<int:job_id>/status", views_import.import_job_status, name="import-job-status"
    ),
    path(
        "import/jobs/<int:job_id>/rejected.csv",
        views_import.import_job_rejected,
        name="import-job-rejected",
    ),
    path(
        "import/jobs/<int:job_id>/import",
        views_import.import_job_from_dry_run,
        name="import-job-import",
    ),
    path("import/jobs/<int:job_id>/retry", views_import.import_job_retry, name="import-job-retry"),
    path("import/jobs/<int:job_id>/undo", views_import.import_job_undo, name="import-job-undo"),
    path(
        "import/batches/<str:batch_id>/undo",
        views_import.import_batch_undo,
        name="import-batch-undo",
    ),
]
