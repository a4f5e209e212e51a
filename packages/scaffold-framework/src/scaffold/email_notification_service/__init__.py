"""`scaffold.email_notification_service`, as in 0.9: now part of `scaffold.mail`.

Shipped by scaffold-framework so that 0.9 code keeps importing; new code writes
`from scaffold.mail import EmailNotificationService, Message`.
"""

from scaffold.mail import EmailNotificationService, Message

__all__ = ["EmailNotificationService", "Message"]
