"""JSON text for JSON columns, written by orjson.

An import writes several JSON values per row (the raw payload, the record's response, the
timeline events' data, the scores' reasons), and ``json.dumps`` took about 2.5 us for each of
them, through Django's four calls around it; orjson writes the same values in a tenth of that.
orjson is a well-kept library (Rust, wheels for every platform Python supports) whose output
is standard JSON: the same values when read back, not the same spacing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Dates, times and dataclasses are not written: json.dumps refuses them (or the column's own
# encoder writes them), and so does ``dumps`` below.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(value: Any) -> str:
    """``value`` as JSON text, as ``json.dumps(value)`` reads back: orjson for what it can
    write (text keys; text, numbers, booleans, None, lists and dicts of them), else
    ``json.dumps`` itself (keys that are not text, integers past 64 bits, a lone surrogate),
    which refuses what it always refused. Text is written in UTF-8 where ``json.dumps``
    escapes every character past ASCII (the same text read back). Not a number and the
    infinities, which JSON has no words for, are written as null (``json.dumps`` writes
    ``NaN``, which PostgreSQL refuses), and a UUID, or a member of an enumeration that is
    not also text or a number, as its value (which ``json.dumps`` refused)."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def json_adapter(vendor: str) -> Callable[[Any], Any]:
    """A JSON column's value (a dict or a list) as the database driver takes it: what
    ``connection.ops.adapt_json_value(value, None)`` gives, written by ``dumps``."""
    if vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return lambda value: Jsonb(value, dumps=dumps)
    return dumps
