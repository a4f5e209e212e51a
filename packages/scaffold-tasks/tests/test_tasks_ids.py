"""Task ids: UUIDv7, increasing within a process, and the time they carry."""

from __future__ import annotations

import datetime
import itertools
import uuid

from scaffold.tasks import TaskContext
from scaffold.tasks._ids import first_id_at, new_task_id, new_task_ids


class TestIds:
    def test_ids_are_version_7_and_increasing(self):
        """Ids are RFC 9562 version 7 UUIDs, strictly increasing even within a millisecond."""
        ids = [*new_task_ids(5000), new_task_id(), *new_task_ids(3)]
        assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
        assert all(a < b for a, b in itertools.pairwise(ids))
        assert len(set(ids)) == len(ids)

    def test_ids_behave_like_any_uuid(self):
        """An id equals, hashes and prints like the UUID built from its integer."""
        made = new_task_id()
        same = uuid.UUID(int=made.int)
        assert made == same
        assert hash(made) == hash(same)
        assert (str(made), made.hex, made.is_safe) == (str(same), same.hex, same.is_safe)

    def test_time_boundaries(self):
        """Ids made after a moment sort after `first_id_at(moment)`; ids before, before it."""
        before = new_task_id()
        boundary = first_id_at(datetime.datetime.now(datetime.UTC).timestamp() + 0.002)
        later = new_task_ids(1)
        assert before < boundary
        assert all(i > first_id_at(0) for i in later)

    def test_context_tells_when_the_task_was_enqueued(self):
        """TaskContext.enqueued_at comes from the id's timestamp."""
        start = datetime.datetime.now(datetime.UTC)
        context = TaskContext(new_task_id(), "t", "default", 1, 3, "worker")
        assert abs(context.enqueued_at - start) < datetime.timedelta(seconds=1)
        assert not context.is_last_attempt
