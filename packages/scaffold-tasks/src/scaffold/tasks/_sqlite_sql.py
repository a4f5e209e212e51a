# ruff: noqa: S608 - the statements are assembled from constants, never from input
"""The SQL statements of the SQLite backend (`:name` parameters; lists as JSON arrays).

SQLite runs one writer at a time, so each claim below is a single atomic statement and
its running counts cannot go stale under another worker's feet.
"""

from __future__ import annotations

from typing import Final

ACTIVE_QUEUES: Final = """
    SELECT value FROM json_each(:queues)
    WHERE value NOT IN (SELECT name FROM scaffold_task_queues WHERE paused)"""

_CLAIM_SET: Final = """
    UPDATE scaffold_tasks
    SET state = 'running', attempts = attempts + 1, worker_id = :worker,
        lease_expires_at = :now + :lease, started_at = :now"""
_CLAIM_RETURNING: Final = "RETURNING id, name, queue, payload, attempts, max_attempts"

CLAIM: Final = f"""
    {_CLAIM_SET}
    WHERE id IN (
        SELECT id FROM scaffold_tasks
        WHERE state = 'queued' AND run_at <= :now AND queue IN ({ACTIVE_QUEUES})
        ORDER BY priority DESC, run_at, id
        LIMIT :limit
    )
    {_CLAIM_RETURNING}"""

# With concurrency limits: rank the due tasks of each limited type and take no more of
# them than the type has free slots.
CLAIM_LIMITED: Final = f"""
    WITH free AS (
        SELECT l.name, l.max_running - (
            SELECT count(*) FROM scaffold_tasks AS r WHERE r.state = 'running' AND r.name = l.name
        ) AS slots
        FROM scaffold_task_limits AS l
    ),
    candidates AS (
        SELECT id, name, priority, run_at,
               row_number() OVER (PARTITION BY name ORDER BY priority DESC, run_at, id) AS rank
        FROM scaffold_tasks
        WHERE state = 'queued' AND run_at <= :now AND queue IN ({ACTIVE_QUEUES})
    )
    {_CLAIM_SET}
    WHERE id IN (
        SELECT c.id FROM candidates AS c LEFT JOIN free AS f ON f.name = c.name
        WHERE f.name IS NULL OR c.rank <= f.slots
        ORDER BY c.priority DESC, c.run_at, c.id
        LIMIT :limit
    )
    {_CLAIM_RETURNING}"""

INSERT: Final = """
    INSERT INTO scaffold_tasks
        (id, name, queue, payload, priority, max_attempts, run_at, dedup_key, created_at)
    VALUES (:id, :name, :queue, :payload, :priority, :max_attempts, :run_at, :dedup_key, :now)
    ON CONFLICT DO NOTHING"""

ACK_DONE_KEEP: Final = """
    UPDATE scaffold_tasks SET state = 'done', finished_at = :now, lease_expires_at = NULL
    WHERE id IN (SELECT value FROM json_each(:ids)) AND worker_id = :worker
      AND state = 'running'"""

ACK_DONE_DELETE: Final = """
    DELETE FROM scaffold_tasks
    WHERE id IN (SELECT value FROM json_each(:ids)) AND worker_id = :worker
      AND state = 'running'"""

ACK_FAILED: Final = """
    UPDATE scaffold_tasks SET
        state = CASE WHEN :retry_in IS NULL THEN 'dead' ELSE 'queued' END,
        run_at = CASE WHEN :retry_in IS NULL THEN run_at ELSE :now + :retry_in END,
        finished_at = CASE WHEN :retry_in IS NULL THEN :now END,
        last_error = :error, lease_expires_at = NULL
    WHERE id = :id AND worker_id = :worker AND state = 'running'"""

EXTEND_LEASES: Final = """
    UPDATE scaffold_tasks SET lease_expires_at = :now + :lease
    WHERE id IN (SELECT value FROM json_each(:held)) AND worker_id = :worker
      AND state = 'running'
    RETURNING id"""

RELEASE_ORPHANS: Final = """
    UPDATE scaffold_tasks SET state = 'queued', attempts = max(attempts - 1, 0),
        worker_id = NULL, lease_expires_at = NULL, run_at = :now
    WHERE state = 'running' AND worker_id = :worker
      AND id NOT IN (SELECT value FROM json_each(:held))"""

RELEASE: Final = """
    UPDATE scaffold_tasks SET state = 'queued', attempts = max(attempts - 1, 0),
        worker_id = NULL, lease_expires_at = NULL, run_at = :now
    WHERE id IN (SELECT value FROM json_each(:ids)) AND worker_id = :worker
      AND state = 'running'"""

RECOVER_EXPIRED: Final = """
    UPDATE scaffold_tasks SET
        state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
        finished_at = CASE WHEN attempts >= max_attempts THEN :now END,
        last_error = 'worker ' || worker_id || ' stopped renewing its lease during attempt '
            || attempts || ' of ' || max_attempts
            || ' (it crashed, was killed or lost the database)',
        worker_id = NULL, lease_expires_at = NULL, run_at = :now
    WHERE state = 'running' AND lease_expires_at < :now
    RETURNING id, name, state"""

SECONDS_UNTIL_DUE: Final = """
    SELECT min(run_at) - :now FROM scaffold_tasks
    WHERE state = 'queued' AND queue IN (SELECT value FROM json_each(:queues))"""

UPSERT_LIMIT: Final = """
    INSERT INTO scaffold_task_limits (name, max_running, changed_at) VALUES (:name, :limit, :now)
    ON CONFLICT (name) DO UPDATE SET max_running = excluded.max_running,
        changed_at = excluded.changed_at
    WHERE max_running <> excluded.max_running"""

DELETE_LIMIT: Final = "DELETE FROM scaffold_task_limits WHERE name = :name"

HAS_LIMITS: Final = "SELECT EXISTS (SELECT 1 FROM scaffold_task_limits)"

INSERT_TICK: Final = """
    INSERT INTO scaffold_cron_ticks (schedule, fire_time, task_id)
    VALUES (:schedule, :fire_time, :task_id)
    ON CONFLICT DO NOTHING"""

LAST_FIRE_TIMES: Final = """
    SELECT schedule, max(fire_time) FROM scaffold_cron_ticks
    WHERE schedule IN (SELECT value FROM json_each(:schedules)) GROUP BY schedule"""

PRUNE_TICKS: Final = """
    DELETE FROM scaffold_cron_ticks
    WHERE fire_time < :cutoff
      AND fire_time < (SELECT max(fire_time) FROM scaffold_cron_ticks AS newest
                       WHERE newest.schedule = scaffold_cron_ticks.schedule)"""

TASK_COLUMNS: Final = (
    "id, name, queue, state, priority, run_at, attempts, max_attempts, dedup_key, worker_id, "
    "last_error, created_at, finished_at, payload"
)

LIST_TASKS: Final = f"""
    SELECT {TASK_COLUMNS} FROM scaffold_tasks
    WHERE state IN (SELECT value FROM json_each(:states))
      AND (:queue IS NULL OR queue = :queue)
    ORDER BY created_at, id LIMIT :limit"""

GET_TASK: Final = f"SELECT {TASK_COLUMNS} FROM scaffold_tasks WHERE id = :id"

COUNTS: Final = (
    "SELECT queue, state, count(*) FROM scaffold_tasks GROUP BY queue, state ORDER BY 1, 2"
)

RETRY_DEAD: Final = """
    UPDATE scaffold_tasks SET state = 'queued', attempts = 0, run_at = :now,
        finished_at = NULL, worker_id = NULL
    WHERE state = 'dead'
      AND (:ids IS NULL OR id IN (SELECT value FROM json_each(:ids)))
      AND (:queue IS NULL OR queue = :queue)"""

PURGE: Final = """
    DELETE FROM scaffold_tasks
    WHERE state = :state
      AND (:ids IS NULL OR id IN (SELECT value FROM json_each(:ids)))
      AND (:queue IS NULL OR queue = :queue)"""

SET_PAUSED: Final = """
    INSERT INTO scaffold_task_queues (name, paused, changed_at) VALUES (:queue, :paused, :now)
    ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, changed_at = excluded.changed_at"""

PAUSED_QUEUES: Final = "SELECT name FROM scaffold_task_queues WHERE paused ORDER BY name"

# Ids are time-ordered (UUIDv7 text), so "created before" is a primary-key range.
PRUNE_DONE: Final = """
    DELETE FROM scaffold_tasks
    WHERE id < :before AND state = 'done' AND finished_at < :cutoff"""


def insert_in_transaction(count: int) -> str:
    """An INSERT of `count` tasks with `:name_i` parameters, for a unit of work's session."""
    rows = ",\n".join(
        f"(:id_{i}, :name_{i}, :queue_{i}, :payload_{i}, :priority_{i}, :max_attempts_{i}, "
        f":run_at_{i}, :dedup_key_{i}, :created_at_{i})"
        for i in range(count)
    )
    return (
        "INSERT INTO scaffold_tasks "
        "(id, name, queue, payload, priority, max_attempts, run_at, dedup_key, created_at) "
        f"VALUES {rows} ON CONFLICT DO NOTHING"
    )
