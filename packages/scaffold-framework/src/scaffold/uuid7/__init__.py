"""`from scaffold.uuid7 import uuid7`, as in 0.9: now `from scaffold.persistence import uuid7`.

Shipped by scaffold-framework so that 0.9 code keeps importing; new code imports from
scaffold.persistence, which owns the implementation.
"""

from scaffold.persistence import uuid7, uuid7_time

__all__ = ["uuid7", "uuid7_time"]
