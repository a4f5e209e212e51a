"""The 0.9 import paths that scaffold-framework keeps working."""

from __future__ import annotations

import uuid

import scaffold.mail
import scaffold.persistence
from scaffold.email_notification_service import EmailNotificationService, Message
from scaffold.uuid7 import uuid7


def test_uuid7_is_importable_from_its_0_9_path() -> None:
    """`from scaffold.uuid7 import uuid7` gives scaffold-persistence's time-ordered ids."""
    assert uuid7 is scaffold.persistence.uuid7
    first, second = uuid7(), uuid7()
    assert isinstance(first, uuid.UUID)
    assert first.version == 7
    assert first < second


def test_email_notification_service_is_importable_from_its_0_9_path() -> None:
    """The tutorial's `scaffold.email_notification_service` names are scaffold-mail's."""
    assert EmailNotificationService is scaffold.mail.EmailNotificationService
    assert Message is scaffold.mail.Message
