"""Fresh planner statistics for bulk jobs on PostgreSQL.

PostgreSQL plans each read from the statistics ``ANALYZE`` gathers; autovacuum keeps them
fresh on a server that runs it (the default), a minute or so after a table changed by a
tenth. A table that was never analyzed (a database just restored or bulk loaded, a server
without autovacuum, a large first import that started before autovacuum came round) is
planned from guesses: measured at a million leads on such a database, a 20,000-row import
took 48 s, 24 s of it waiting on block reads planned from them, and 23 s once the tables
had been analyzed (2 s). ``statistics_refresh`` analyzes the tables a job reads when they
have no statistics or have changed by more than a fifth since their last analysis, as
autovacuum would have done; on SQLite (whose planner does not need them) it does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import DatabaseError, connection, models, transaction

log = logging.getLogger(__name__)

# A table smaller than this many pages (8 KiB each) is read whole either way.
MIN_PAGES = 500
# Rows changed since the last analysis, as a share of the rows it counted (autovacuum's
# default is a tenth, plus 50 rows), and at least this many.
CHANGED_SHARE = 0.2
MIN_CHANGED = 10_000

_STATE_SQL = """
SELECT c.relname,
       c.reltuples,
       pg_relation_size(c.oid) / current_setting('block_size')::int AS pages,
       COALESCE(s.n_mod_since_analyze, 0) AS changed,
       s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL OR EXISTS (
           SELECT 1 FROM pg_stats p
           WHERE p.schemaname = n.nspname AND p.tablename = c.relname
       ) AS analyzed
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname = current_schema() AND c.relname = ANY(%s)
"""


def stale(reltuples: float, pages: int, changed: int, analyzed: bool) -> bool:
    """Whether a table in this state is analyzed again: never analyzed and not small, or
    changed by more than ``CHANGED_SHARE`` of its rows (and ``MIN_CHANGED``) since."""
    if not analyzed:
        return pages >= MIN_PAGES
    return changed >= max(MIN_CHANGED, CHANGED_SHARE * max(reltuples, 0.0))


def statistics_refresh(tables: Iterable[type[models.Model]]) -> list[str]:
    """``ANALYZE`` each of these models' tables whose statistics are missing or stale
    (``stale``), on PostgreSQL; the names of the tables analyzed. A server that refuses
    (a role that does not own the tables) is logged and the job goes on as before."""
    if connection.vendor != "postgresql":
        return []
    names = sorted({model._meta.db_table for model in tables})
    done: list[str] = []
    with connection.cursor() as cursor:
        # The activity counters as they are now, not as this transaction first read them.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_STATE_SQL, [names])
        due = [row[0] for row in cursor.fetchall() if stale(row[1], row[2], row[3], row[4])]
        for name in due:
            try:
                with transaction.atomic():  # a refusal rolls back this statement alone
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
            except DatabaseError as exc:
                log.warning("could not analyze %s (%s): reads are planned without it", name, exc)
                continue
            done.append(name)
    if done:
        log.info("analyzed %s: their statistics were missing or stale", ", ".join(done))
    return done
