"""The SQLite schema of the task queue, as numbered migrations (times are Unix seconds)."""

from __future__ import annotations

from typing import Final

MIGRATIONS: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (
        1,
        (
            """
            CREATE TABLE scaffold_tasks (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                queue TEXT NOT NULL,
                payload TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'dead')),
                priority INTEGER NOT NULL DEFAULT 0,
                run_at REAL NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
                dedup_key TEXT,
                worker_id TEXT,
                lease_expires_at REAL,
                last_error TEXT,
                created_at REAL NOT NULL,
                started_at REAL,
                finished_at REAL
            )""",
            """
            CREATE INDEX scaffold_tasks_claim_idx
                ON scaffold_tasks (queue, priority DESC, run_at, id) WHERE state = 'queued'""",
            """
            CREATE INDEX scaffold_tasks_running_idx
                ON scaffold_tasks (lease_expires_at) WHERE state = 'running'""",
            """
            CREATE UNIQUE INDEX scaffold_tasks_dedup_idx ON scaffold_tasks (dedup_key)
                WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running')""",
            """
            CREATE TABLE scaffold_task_queues (
                name TEXT PRIMARY KEY,
                paused INTEGER NOT NULL DEFAULT 0,
                changed_at REAL NOT NULL
            )""",
            """
            CREATE TABLE scaffold_task_limits (
                name TEXT PRIMARY KEY,
                max_running INTEGER NOT NULL CHECK (max_running >= 1),
                changed_at REAL NOT NULL
            )""",
            """
            CREATE TABLE scaffold_cron_ticks (
                schedule TEXT NOT NULL,
                fire_time REAL NOT NULL,
                task_id TEXT NOT NULL,
                PRIMARY KEY (schedule, fire_time)
            )""",
        ),
    ),
)

SCHEMA_VERSION: Final = MIGRATIONS[-1][0]

VERSION_TABLE: Final = """
CREATE TABLE IF NOT EXISTS scaffold_tasks_schema (
    version INTEGER PRIMARY KEY,
    applied_at REAL NOT NULL
)"""
