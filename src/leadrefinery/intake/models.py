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
