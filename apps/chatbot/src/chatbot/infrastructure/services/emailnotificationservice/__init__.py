from typing import override

from chatbot.application.interfaces import NotificationService
from scaffold.mail import EmailNotificationService as BaseEmailNotificationService
from scaffold.mail import Message


class EmailNotificationService(BaseEmailNotificationService, NotificationService):
    @override
    async def send_welcome_message(self, email: str) -> None:
        mail = await self.render_mail("welcome", email=email)
        message = Message(
            subject=mail.subject or "Welcome!",
            recipients=[email],
            sender=self.default_sender_email,
            body=mail.text,
            html=mail.html,
        )
        await self.mail_sender.send(message)
