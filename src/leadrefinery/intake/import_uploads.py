"""The import page's uploads and saved mappings: a file stored under a name of ours (never the
one the person chose) with mode 0600, what the import would make of it (inspect_csv with the
source's saved mapping), and the column choices a source keeps for its next files."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping
from itertools import islice
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import transaction

from leadrefinery.accounts.models import User
from leadrefinery.common.clock import now
from leadrefinery.common.errors import ServiceError
from leadrefinery.leads.custom_field_services import definitions
from leadrefinery.leads.models import Source

from .import_mapping import CUSTOM_PREFIX, IGNORE, TARGET_FIELDS, HeaderMapping, valid_target
from .import_reading import printable
from .import_source import _is_blank, _open_source, _records
from .importing import ImportFailed, inspect_csv
from .models import ImportMapping, ImportUpload

ACCEPTED = (".csv", ".txt", ".tsv", ".xlsx")
MAX_BYTES = 200 * 1024 * 1024
_SAMPLE_ROWS = 50  # rows read for each column's example value

# What the page calls each target field.
LABELS = {
    "email": "Email",
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Full name",
    "title": "Job title",
    "company": "Company",
    "website": "Website",
    "country": "Country",
    "region": "State / region",
    "city": "City",
    "postcode": "Postal code",
    "street": "Street",
    "language": "Language",
    "product_interest": "Product interest",
    "message": "Message / notes",
    "need": "Need",
    "budget": "Budget",
    "authority": "Authority",
    "timeline": "Timeline",
    "opportunity_amount": "Deal amount",
    "currency": "Deal currency",
    "received_at": "Inquiry date",
    "consent": "Marketing consent",
    "lead_source": "Lead source (kept as provenance)",
}


def folder() -> Path:
    """uploads/imports under REFINERY_HOME, readable by its owner only."""
    path = Path(settings.REFINERY_HOME) / "uploads" / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for part in (path.parent, path):
        part.chmod(0o700)
    return path


def private_file(name: str) -> tuple[Path, int]:
    """A new file in folder() (O_EXCL, mode 0600): its path and an open descriptor."""
    path = folder() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return path, fd


def target_choices() -> list[tuple[str, str]]:
    """(value, label) for a column's select: every intake field, every custom field, Ignore."""
    choices = [
        (name, LABELS.get(name, name.replace("_", " ").capitalize())) for name in TARGET_FIELDS
    ]
    choices += [(f"{CUSTOM_PREFIX}{d.name}", f"Custom: {d.label or d.name}") for d in definitions()]
    return [*choices, (IGNORE, "Ignore (keep in the raw record only)")]


def targets_of(mapping: HeaderMapping) -> dict[str, str]:
    """Header -> the target each column feeds under ``mapping`` ("" when none)."""
    out = dict.fromkeys(mapping.headers, IGNORE)
    for name, indexes in mapping.columns.items():
        for index in indexes:
            out[mapping.headers[index]] = name
    for index, name in mapping.custom.items():
        out[mapping.headers[index]] = f"{CUSTOM_PREFIX}{name}"
    return out


def saved_columns(source_name: str) -> dict[str, str]:
    """The saved mapping of the source of this name (case aside), or {}."""
    name = (source_name or "").strip()
    if not name:
        return {}
    saved = ImportMapping.objects.filter(source__name__iexact=name).first()
    return dict(saved.columns) if saved is not None else {}


def mapping_save(*, source_name: str, columns: Mapping[str, str], user: User) -> ImportMapping:
    """Keep these column choices for the source (made when new, as the import would)."""
    name = source_name.strip()
    if not name:
        raise ServiceError("name the source to save its mapping for", field="source")
    with transaction.atomic():
        source = Source.objects.filter(name__iexact=name).first()
        if source is None:
            source = Source.objects.create(name=name, channel=Source.Channel.LIST_PURCHASE)
        saved, _ = ImportMapping.objects.update_or_create(
            source=source,
            defaults={"columns": dict(columns), "saved_by": user, "saved_at": now()},
        )
    return saved


def _column_samples(path: Path, width: int) -> list[str]:
    """The first non-empty value of each column among the first rows."""
    found = [""] * width
    records = ((n, row) for n, row in _records(_open_source(path)) if not _is_blank(row))
    next(records, None)  # the header
    for _, row in islice(records, _SAMPLE_ROWS):
        for index, cell in enumerate(printable(row)[:width]):
            if not found[index] and cell.strip():
                found[index] = cell.strip()[:80]
        if all(found):
            break
    return found


def upload_inspect(upload: ImportUpload, source_name: str = "") -> dict:
    """What the import would make of the upload, with the source's saved mapping applied:
    the upload's preview with ``targets`` (header -> target) and ``saved`` (bool)."""
    saved = saved_columns(source_name)
    preview = inspect_csv(upload.path, columns=saved or None)
    headers = list(preview.mapping.headers)
    return {
        "headers": headers,
        "total_rows": preview.total_rows,
        "delimiter": preview.delimiter,
        "encoding": preview.encoding,
        "notes": list(preview.notes),
        "flavor": preview.mapping.flavor or "",
        "samples": _column_samples(Path(upload.path), len(headers)),
        "targets": targets_of(preview.mapping),
        "saved": bool(saved),
    }


def upload_store(
    *, data: IO[bytes], name: str, user: User, source_name: str = "", campaign_name: str = ""
) -> ImportUpload:
    """Store an uploaded file and inspect it (with the saved mapping of the source, when one is
    named). Raises ServiceError (field "file") for a file of
    another type, an empty one, or one the import cannot read (the file is not kept)."""
    shown = Path(name or "upload.csv").name[:300]
    suffix = Path(shown).suffix.lower()
    if suffix not in ACCEPTED:
        raise ServiceError(
            f"{shown} is not a CSV or Excel file: choose a .csv, .tsv, .txt or .xlsx file",
            field="file",
        )
    pk = uuid.uuid4()
    path, fd = private_file(f"{pk.hex}{suffix}")
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := data.read(1 << 20):
                size += len(block)
                if size > MAX_BYTES:
                    raise ServiceError(
                        f"{shown} is larger than {MAX_BYTES // (1024 * 1024)} MB: split it",
                        field="file",
                    )
                digest.update(block)
                out.write(block)
        if size == 0:
            raise ServiceError(f"{shown} is empty: there is nothing to import", field="file")
        upload = ImportUpload(
            id=pk,
            path=str(path),
            name=shown,
            sha256=digest.hexdigest(),
            size=size,
            uploaded_by=user,
            uploaded_at=now(),
        )
        try:
            upload.preview = upload_inspect(upload, source_name)
        except ImportFailed as exc:
            raise ServiceError(_plain(exc.message, path, shown), field="file") from None
        upload.preview["source_name"] = source_name.strip()
        upload.preview["campaign_name"] = campaign_name.strip()
        upload.save(force_insert=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return upload


def _plain(message: str, path: Path, shown: str) -> str:
    """An import message about the stored file, naming the file the person chose."""
    return message.replace(str(path), shown).replace(path.name, shown)


def columns_from(preview: dict, chosen: Mapping[str, str]) -> dict[str, str]:
    """The page's choice for each column (header -> target), checked: ServiceError names a
    column whose target is unknown, or a mapping without an email or phone column."""
    custom = definitions()
    columns: dict[str, str] = {}
    for header in preview.get("headers", []):
        target = chosen.get(header, preview.get("targets", {}).get(header, IGNORE))
        if not valid_target(target, custom):
            raise ServiceError(f"'{header}': there is no field '{target}'", field="columns")
        columns[header] = target
    if not {"email", "phone"} & set(columns.values()):
        raise ServiceError(
            "no column is mapped to Email or Phone, so no row could be imported: choose one",
            field="columns",
        )
    return columns
