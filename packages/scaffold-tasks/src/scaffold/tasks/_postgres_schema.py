"""The PostgreSQL schema of the task queue, as numbered migrations.

Each migration runs once, in order, inside one transaction that holds an advisory lock,
so concurrent `migrate` calls are safe. A worker checks the recorded version at start-up.
"""

from __future__ import annotations

from typing import Final

# Per migration: its version and its statements, with {s} standing for the quoted schema.
MIGRATIONS: Final[tuple[tuple[int, str], ...]] = (
    (
        1,
        """
CREATE TABLE {s}.scaffold_tasks (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    queue text NOT NULL,
    -- The task's JSON, written by pydantic and validated by pydantic when read; stored
    -- as text because the database never needs to look inside (use payload::json).
    payload text NOT NULL,
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'dead')),
    priority integer NOT NULL DEFAULT 0,
    run_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL CHECK (max_attempts >= 1),
    dedup_key text,
    worker_id text,
    lease_expires_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Claiming walks this index in priority order; it only holds queued rows.
CREATE INDEX scaffold_tasks_claim_idx
    ON {s}.scaffold_tasks (queue, priority DESC, run_at, id) WHERE state = 'queued';
-- Lease recovery, heartbeats and concurrency limits look at running rows only.
CREATE INDEX scaffold_tasks_running_idx
    ON {s}.scaffold_tasks (lease_expires_at) WHERE state = 'running';
CREATE UNIQUE INDEX scaffold_tasks_dedup_idx
    ON {s}.scaffold_tasks (dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running');

CREATE TABLE {s}.scaffold_task_queues (
    name text PRIMARY KEY,
    paused boolean NOT NULL DEFAULT false,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE {s}.scaffold_task_limits (
    name text PRIMARY KEY,
    max_running integer NOT NULL CHECK (max_running >= 1),
    changed_at timestamptz NOT NULL DEFAULT now()
);

-- One row per (schedule, fire time): the key that makes each cron tick enqueue once.
CREATE TABLE {s}.scaffold_cron_ticks (
    schedule text NOT NULL,
    fire_time timestamptz NOT NULL,
    task_id uuid NOT NULL,
    PRIMARY KEY (schedule, fire_time)
);
""",
    ),
)

SCHEMA_VERSION: Final = MIGRATIONS[-1][0]

VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS {s}.scaffold_tasks_schema (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
