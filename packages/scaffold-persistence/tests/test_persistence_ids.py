"""uuid7(): time-ordered ids for new entities."""

import time
import uuid

import pytest

from scaffold.persistence import _ids, uuid7, uuid7_time


def test_ids_are_version_7_rfc_uuids():
    """uuid7() returns UUIDs of version 7 with the RFC 9562 variant."""
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_ids_sort_in_creation_order_and_never_repeat():
    """Ids made one after another (many per millisecond) sort in that order, no repeats."""
    made = [uuid7() for _ in range(20_000)]
    assert sorted(made) == made
    assert len(set(made)) == len(made)


def test_ids_carry_their_creation_time():
    """uuid7_time() reads the millisecond the id was made back out of it."""
    before = time.time()
    value = uuid7()
    assert before - 0.002 <= uuid7_time(value) <= time.time() + 0.002


def test_order_holds_when_the_clock_steps_back(monkeypatch):
    """When the wall clock goes back, new ids still sort after the earlier ones."""
    first = uuid7()
    monkeypatch.setattr(_ids.time, "time_ns", lambda: 1_000_000_000)  # 1970
    later = [uuid7() for _ in range(100)]
    assert [first, *later] == sorted([first, *later])


def test_time_of_a_non_version_7_uuid_is_refused():
    """uuid7_time() refuses a UUID of another version, naming it."""
    with pytest.raises(ValueError, match="version 4"):
        uuid7_time(uuid.uuid4())
