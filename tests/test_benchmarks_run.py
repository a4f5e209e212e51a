"""The pub/sub benchmark still runs against the real servers and prints its ratios.

Only that it runs is checked (`--smoke`: a few messages, one round); its figures are
read by people, never asserted.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_pubsub_benchmark_prints_its_ratios(postgres_url: str, redis_url: str) -> None:
    env = dict(os.environ, BENCH_DATABASE_URL=postgres_url, BENCH_REDIS_URL=redis_url)
    result = subprocess.run(
        [sys.executable, "benchmarks/pubsub/run.py", "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for line in (
        "PostgreSQL   1 subscriber(s): throughput scaffold/broadcaster",
        "PostgreSQL 100 subscriber(s): throughput scaffold/broadcaster",
        "Redis        1 subscriber(s): throughput scaffold/broadcaster",
        "Redis      100 subscriber(s): throughput scaffold/broadcaster",
        "p50 scaffold / raw psycopg round trip",
        "10 publishers, throughput scaffold/broadcaster",
    ):
        assert line in out, out
