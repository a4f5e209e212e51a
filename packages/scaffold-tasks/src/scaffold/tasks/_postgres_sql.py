# ruff: noqa: S608 - the statements are assembled from a checked schema name, never from input
"""The SQL statements of the PostgreSQL backend, built once per schema name.

Parameters use psycopg's `%(name)s` style; arrays go in binary (`%(name)b`), which psycopg
encodes several times faster than text for the hundreds of ids of a batch. The exception
is `enqueue_in_transaction`, which a unit of work runs through SQLAlchemy `text()` and so
uses `:name` and CAST() (never `::`).
"""

from __future__ import annotations

import dataclasses
import hashlib

_RETURNING_CLAIMED = "t.id, t.name, t.queue, t.payload, t.attempts, t.max_attempts"
_MAX_IDENTIFIER = 63
_TASK_COLUMNS = (
    "id, name, queue, state, priority, run_at, attempts, max_attempts, dedup_key, worker_id, "
    "last_error, created_at, finished_at, payload"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Statements:
    schema: str
    channel: str
    tasks: str
    version_check: str
    version_read: str
    enqueue_one: str
    enqueue_many: str
    notify_queues: str
    copy_tasks: str
    claim: str
    claim_limited: str
    limits_lock: str
    ack_done_keep: str
    ack_done_delete: str
    ack_failed: str
    extend_leases: str
    release: str
    recover_expired: str
    seconds_until_due: str
    read_limits: str
    upsert_limits: str
    delete_limits: str
    fire_ticks: str
    last_fire_times: str
    prune_ticks: str
    list_tasks: str
    list_tasks_in_queue: str
    get_task: str
    counts: str
    retry_dead_ids: str
    retry_dead_all: str
    purge_ids: str
    purge_all: str
    set_paused: str
    paused_queues: str
    prune_done: str

    def enqueue_in_transaction(self, count: int) -> str:
        """An INSERT of `count` tasks with `:name_i` parameters, notifying on commit."""
        rows = ",\n".join(
            f"(CAST(:id_{i} AS uuid), :name_{i}, :queue_{i}, :payload_{i}, "
            f":priority_{i}, :max_attempts_{i}, "
            f"coalesce(CAST(:run_at_{i} AS timestamptz), "
            f"now() + CAST(:delay_{i} AS double precision) * interval '1 second'), "
            f":dedup_key_{i})"
            for i in range(count)
        )
        return (
            f"WITH ins AS (INSERT INTO {self.tasks} "
            "(id, name, queue, payload, priority, max_attempts, run_at, dedup_key) "
            f"VALUES {rows} ON CONFLICT DO NOTHING RETURNING queue) "
            "SELECT pg_notify(:channel, q) FROM (SELECT DISTINCT queue AS q FROM ins) AS d"
        )


def notify_channel(schema: str) -> str:
    """The NOTIFY channel of a schema's queue: at most 63 bytes, as PostgreSQL requires
    (a longer name would be cut short by LISTEN and refused by pg_notify)."""
    channel = f"scaffold_tasks.{schema}"
    if len(channel.encode()) <= _MAX_IDENTIFIER:
        return channel
    return f"scaffold_tasks.{hashlib.sha256(schema.encode()).hexdigest()[:32]}"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def build(schema: str) -> Statements:
    s = quote_identifier(schema)
    t = f"{s}.scaffold_tasks"
    queues_table = f"{s}.scaffold_task_queues"
    limits = f"{s}.scaffold_task_limits"
    ticks = f"{s}.scaffold_cron_ticks"
    channel = notify_channel(schema)

    active_queues = f"""
        SELECT q FROM unnest(%(queues)b::text[]) AS q
        WHERE q NOT IN (SELECT name FROM {queues_table} WHERE paused)"""
    claim_update = f"""
        UPDATE {t} AS t
        SET state = 'running', attempts = t.attempts + 1, worker_id = %(worker)s,
            lease_expires_at = now() + %(lease)s * interval '1 second', started_at = now()
        FROM picked WHERE t.id = picked.id
        RETURNING {_RETURNING_CLAIMED}"""
    claim = f"""
        WITH active AS ({active_queues}),
        picked AS (
            SELECT c.id FROM active CROSS JOIN LATERAL (
                SELECT id, priority, run_at FROM {t}
                WHERE state = 'queued' AND queue = active.q AND run_at <= now()
                ORDER BY priority DESC, run_at, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            ) AS c
            ORDER BY c.priority DESC, c.run_at, c.id
            LIMIT %(limit)s
        )
        {claim_update}"""
    # Runs after `limits_lock` in the same transaction, so the running counts it takes
    # from its own (later) snapshot include every claim committed before the lock.
    claim_limited = f"""
        WITH active AS ({active_queues}),
        free AS (
            SELECT l.name, l.max_running - (
                SELECT count(*) FROM {t} AS r WHERE r.state = 'running' AND r.name = l.name
            ) AS slots
            FROM {limits} AS l
        ),
        unlimited AS (
            SELECT c.id, c.priority, c.run_at FROM active CROSS JOIN LATERAL (
                SELECT id, priority, run_at FROM {t}
                WHERE state = 'queued' AND queue = active.q AND run_at <= now()
                  AND name NOT IN (SELECT name FROM {limits})
                ORDER BY priority DESC, run_at, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            ) AS c
        ),
        limited AS (
            SELECT c.id, c.priority, c.run_at FROM free CROSS JOIN LATERAL (
                SELECT id, priority, run_at FROM {t}
                WHERE state = 'queued' AND name = free.name AND run_at <= now()
                  AND queue IN (SELECT q FROM active)
                ORDER BY priority DESC, run_at, id
                LIMIT least(free.slots, %(limit)s)
                FOR UPDATE SKIP LOCKED
            ) AS c
            WHERE free.slots > 0
        ),
        picked AS (
            SELECT id FROM (SELECT * FROM unlimited UNION ALL SELECT * FROM limited) AS u
            ORDER BY priority DESC, run_at, id
            LIMIT %(limit)s
        )
        {claim_update}"""
    insert_columns = "(id, name, queue, payload, priority, max_attempts, run_at, dedup_key)"
    return Statements(
        schema=schema,
        channel=channel,
        tasks=t,
        version_check="SELECT to_regclass(%(table)s) IS NOT NULL",
        version_read=f"SELECT max(version) FROM {s}.scaffold_tasks_schema",
        enqueue_one=f"""
            WITH ins AS (
                INSERT INTO {t} {insert_columns}
                VALUES (%(id)s, %(name)s, %(queue)s, %(payload)s, %(priority)s,
                        %(max_attempts)s,
                        coalesce(%(run_at)s::timestamptz,
                                 now() + %(delay)s::double precision * interval '1 second'),
                        %(dedup_key)s)
                ON CONFLICT DO NOTHING
                RETURNING queue
            )
            SELECT pg_notify(%(channel)s, queue) FROM ins""",
        enqueue_many=f"""
            WITH ins AS (
                INSERT INTO {t} {insert_columns}
                SELECT id, name, queue, payload, priority, max_attempts,
                       coalesce(run_at, now() + coalesce(delay, 0) * interval '1 second'),
                       dedup_key
                FROM unnest(%(ids)b::uuid[], %(names)b::text[], %(queues)b::text[],
                            %(payloads)b::text[], %(priorities)b::int[], %(max_attempts)b::int[],
                            %(run_ats)b::timestamptz[], %(delays)b::double precision[],
                            %(dedup_keys)b::text[])
                    AS i(id, name, queue, payload, priority, max_attempts, run_at, delay,
                         dedup_key)
                ON CONFLICT DO NOTHING
                RETURNING id, queue
            )
            SELECT id, pg_notify(%(channel)s, queue) FROM ins""",
        notify_queues="SELECT pg_notify(%(channel)s, q) FROM unnest(%(queues)b::text[]) AS q",
        copy_tasks=(f"COPY {t} (id, name, queue, payload, priority, max_attempts) FROM STDIN"),
        claim=claim,
        claim_limited=claim_limited,
        limits_lock="SELECT pg_advisory_xact_lock(hashtext(%(key)s))",
        ack_done_keep=f"""
            UPDATE {t} SET state = 'done', finished_at = now(), lease_expires_at = NULL
            WHERE id = ANY(%(ids)b::uuid[]) AND worker_id = %(worker)s AND state = 'running'""",
        ack_done_delete=f"""
            DELETE FROM {t}
            WHERE id = ANY(%(ids)b::uuid[]) AND worker_id = %(worker)s AND state = 'running'""",
        ack_failed=f"""
            UPDATE {t} AS t SET
                state = CASE WHEN f.retry_in IS NULL THEN 'dead' ELSE 'queued' END,
                run_at = CASE WHEN f.retry_in IS NULL THEN t.run_at
                              ELSE now() + f.retry_in * interval '1 second' END,
                finished_at = CASE WHEN f.retry_in IS NULL THEN now() END,
                last_error = f.error, lease_expires_at = NULL
            FROM unnest(%(ids)b::uuid[], %(errors)b::text[], %(retry_in)b::double precision[])
                AS f(id, error, retry_in)
            WHERE t.id = f.id AND t.worker_id = %(worker)s AND t.state = 'running'
            RETURNING t.queue""",
        extend_leases=f"""
            WITH extended AS (
                UPDATE {t} SET lease_expires_at = now() + %(lease)s * interval '1 second'
                WHERE id = ANY(%(held)b::uuid[]) AND worker_id = %(worker)s
                  AND state = 'running'
                RETURNING id
            ),
            orphaned AS (
                UPDATE {t} SET state = 'queued', attempts = greatest(attempts - 1, 0),
                    worker_id = NULL, lease_expires_at = NULL, run_at = now()
                WHERE state = 'running' AND worker_id = %(worker)s
                  AND id <> ALL(%(held)b::uuid[])
                RETURNING id
            )
            SELECT id FROM unnest(%(held)b::uuid[]) AS h(id)
            WHERE id NOT IN (SELECT id FROM extended)""",
        release=f"""
            WITH released AS (
                UPDATE {t} SET state = 'queued', attempts = greatest(attempts - 1, 0),
                    worker_id = NULL, lease_expires_at = NULL, run_at = now()
                WHERE id = ANY(%(ids)b::uuid[]) AND worker_id = %(worker)s
                  AND state = 'running'
                RETURNING queue
            )
            SELECT count(*), (SELECT count(pg_notify(%(channel)s, q))
                              FROM (SELECT DISTINCT queue AS q FROM released) AS d)
            FROM released""",
        recover_expired=f"""
            WITH expired AS (
                SELECT id FROM {t}
                WHERE state = 'running' AND lease_expires_at < now()
                FOR UPDATE SKIP LOCKED
            ),
            recovered AS (
                UPDATE {t} AS t SET
                    state = CASE WHEN t.attempts >= t.max_attempts THEN 'dead' ELSE 'queued' END,
                    finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
                    last_error = format(
                        'worker %%s stopped renewing its lease during attempt %%s of %%s '
                        '(it crashed, was killed or lost the database)',
                        t.worker_id, t.attempts, t.max_attempts),
                    worker_id = NULL, lease_expires_at = NULL, run_at = now()
                FROM expired WHERE t.id = expired.id
                RETURNING t.id, t.name, t.state, t.queue
            )
            SELECT id, name, state,
                   CASE WHEN state = 'queued' THEN pg_notify(%(channel)s, queue) END
            FROM recovered""",
        seconds_until_due=f"""
            SELECT extract(epoch FROM min(run_at) - now())::double precision FROM {t}
            WHERE state = 'queued' AND queue = ANY(%(queues)b::text[])""",
        read_limits=f"SELECT name, max_running FROM {limits}",
        upsert_limits=f"""
            INSERT INTO {limits} (name, max_running)
            SELECT * FROM unnest(%(names)b::text[], %(limits)b::int[])
            ON CONFLICT (name) DO UPDATE SET max_running = excluded.max_running,
                changed_at = now()
            WHERE {limits}.max_running <> excluded.max_running""",
        delete_limits=f"DELETE FROM {limits} WHERE name = ANY(%(names)b::text[])",
        fire_ticks=f"""
            WITH input AS (
                SELECT * FROM unnest(
                    %(schedules)b::text[], %(fire_times)b::timestamptz[], %(ids)b::uuid[],
                    %(names)b::text[], %(queues)b::text[], %(payloads)b::text[],
                    %(priorities)b::int[], %(max_attempts)b::int[])
                AS i(schedule, fire_time, id, name, queue, payload, priority, max_attempts)
            ),
            tick AS (
                INSERT INTO {ticks} (schedule, fire_time, task_id)
                SELECT schedule, fire_time, id FROM input
                ON CONFLICT DO NOTHING
                RETURNING task_id
            ),
            ins AS (
                INSERT INTO {t} (id, name, queue, payload, priority, max_attempts)
                SELECT i.id, i.name, i.queue, i.payload, i.priority, i.max_attempts
                FROM input AS i JOIN tick ON tick.task_id = i.id
                ON CONFLICT DO NOTHING
                RETURNING queue
            )
            SELECT count(*), (SELECT count(pg_notify(%(channel)s, q))
                              FROM (SELECT DISTINCT queue AS q FROM ins) AS d)
            FROM ins""",
        last_fire_times=f"""
            SELECT schedule, max(fire_time) FROM {ticks}
            WHERE schedule = ANY(%(schedules)b::text[]) GROUP BY schedule""",
        prune_ticks=f"""
            DELETE FROM {ticks} AS old
            WHERE old.fire_time < now() - %(older_than)s * interval '1 second'
              AND old.fire_time < (SELECT max(fire_time) FROM {ticks} AS newest
                                   WHERE newest.schedule = old.schedule)""",
        list_tasks=f"""
            SELECT {_TASK_COLUMNS} FROM {t} WHERE state = ANY(%(states)b::text[])
            ORDER BY created_at, id LIMIT %(limit)s""",
        list_tasks_in_queue=f"""
            SELECT {_TASK_COLUMNS} FROM {t}
            WHERE state = ANY(%(states)b::text[]) AND queue = %(queue)s
            ORDER BY created_at, id LIMIT %(limit)s""",
        get_task=f"SELECT {_TASK_COLUMNS} FROM {t} WHERE id = %(id)s",
        counts=f"SELECT queue, state, count(*) FROM {t} GROUP BY queue, state ORDER BY 1, 2",
        retry_dead_ids=f"""
            WITH retried AS (
                UPDATE {t} SET state = 'queued', attempts = 0, run_at = now(),
                    finished_at = NULL, worker_id = NULL
                WHERE state = 'dead' AND id = ANY(%(ids)b::uuid[])
                RETURNING queue
            )
            SELECT count(*), (SELECT count(pg_notify(%(channel)s, q))
                              FROM (SELECT DISTINCT queue AS q FROM retried) AS d)
            FROM retried""",
        retry_dead_all=f"""
            WITH retried AS (
                UPDATE {t} SET state = 'queued', attempts = 0, run_at = now(),
                    finished_at = NULL, worker_id = NULL
                WHERE state = 'dead' AND (%(queue)s::text IS NULL OR queue = %(queue)s)
                RETURNING queue
            )
            SELECT count(*), (SELECT count(pg_notify(%(channel)s, q))
                              FROM (SELECT DISTINCT queue AS q FROM retried) AS d)
            FROM retried""",
        purge_ids=f"DELETE FROM {t} WHERE state = %(state)s AND id = ANY(%(ids)b::uuid[])",
        purge_all=f"""
            DELETE FROM {t}
            WHERE state = %(state)s AND (%(queue)s::text IS NULL OR queue = %(queue)s)""",
        set_paused=f"""
            INSERT INTO {queues_table} (name, paused) VALUES (%(queue)s, %(paused)s)
            ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, changed_at = now()""",
        paused_queues=f"SELECT name FROM {queues_table} WHERE paused ORDER BY name",
        # Ids are time-ordered (UUIDv7), so "created before" is a primary-key range and
        # pruning never scans the whole table.
        prune_done=f"""
            DELETE FROM {t} WHERE id IN (
                SELECT id FROM {t}
                WHERE id < %(before)s AND state = 'done'
                  AND finished_at < now() - %(older_than)s * interval '1 second'
                LIMIT 10000
            )""",
    )
