"""What an import batch read, and which process is running it: lets `refinery import --resume`
continue a batch that died, and lets a second import of the same file be noticed.

(The batch itself, ``leads.ImportBatch``, predates this; its file is kept here, one row per
batch, so that the leads app's tables stay as they are.)
"""

from __future__ import annotations

from django.db import models


class ImportFile(models.Model):
    batch = models.OneToOneField(
        "leads.ImportBatch", primary_key=True, on_delete=models.CASCADE, related_name="file"
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField(default=0)
    # The file as the command was given it (absolute), so that a resume can find it again.
    path = models.CharField(max_length=1000, blank=True)
    chunk_size = models.PositiveIntegerField(default=500)
    # The process that is (or was last) importing it: a resume refuses while it still runs.
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    resumed = models.PositiveSmallIntegerField(default=0)  # how many times it was resumed

    def __str__(self) -> str:
        return f"File of {self.batch_id} ({self.sha256[:12]})"


class ImportMapping(models.Model):
    """A source's saved column choices (import page): applied to its next files, columns
    matched by their header text (import_mapping.map_headers' overrides)."""

    source = models.OneToOneField(
        "leads.Source", primary_key=True, on_delete=models.CASCADE, related_name="import_mapping"
    )
    columns = models.JSONField(default=dict)  # header -> target ("" ignores the column)
    saved_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    saved_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Import mapping of {self.source_id}"


class ImportUpload(models.Model):
    """A file uploaded on the import page, kept under a name of ours (uploads/imports/, 0600)."""

    id = models.UUIDField(primary_key=True)
    path = models.CharField(max_length=1000)
    name = models.CharField(max_length=300)  # as the person's computer called it: shown only
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField()
    # What inspect_csv found: headers, total_rows, delimiter, encoding, notes, samples (the
    # first value of each column), targets (header -> target as mapped then).
    preview = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Upload {self.name}"


class ImportJob(models.Model):
    """A dry run or an import of an upload, run by the worker (intake/import_jobs.py)."""

    class Kind(models.TextChoices):
        DRY_RUN = "dry_run", "Dry run"
        IMPORT = "import", "Import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    upload = models.ForeignKey(ImportUpload, on_delete=models.PROTECT, related_name="jobs")
    source_name = models.CharField(max_length=120)
    campaign_name = models.CharField(max_length=120, blank=True)
    columns = models.JSONField(default=dict, blank=True)  # header -> target chosen on the page
    again = models.BooleanField(default=False)  # import a file a batch already holds
    chunk_size = models.PositiveIntegerField(default=500)
    requested_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    phase = models.CharField(max_length=20, blank=True)  # "matching" | "importing"
    rows_done = models.PositiveIntegerField(default=0)  # in this phase
    total_rows = models.PositiveIntegerField(default=0)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs (1 + resumes)
    report = models.JSONField(default=dict, blank=True)
    errors_path = models.CharField(max_length=1000, blank=True)  # the rejected rows' CSV
    batch = models.ForeignKey(
        "leads.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.TextField(blank=True)
    undo_report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="intake_job_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} of {self.upload_id}"
