"""Security headers added to every response unless the response already sets them."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Mapping, MutableMapping

    from hypercorn.typing import ASGISendCallable, ASGISendEvent

# 'self' covers same-origin websockets (ws/wss) in connect-src for current browsers.
# frame-ancestors 'none' is the modern form of X-Frame-Options: DENY (kept for old ones).
DEFAULT_CSP = (
    "default-src 'self'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; "
    "object-src 'none'"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecurityHeaders:
    """The security headers of every response; ``None`` leaves a header out.

    Parameters:
        content_security_policy: the Content-Security-Policy; the default allows only the
            app's own origin for scripts, styles, images and connections, and no framing.
        content_type_options: X-Content-Type-Options.
        referrer_policy: Referrer-Policy.
        frame_options: X-Frame-Options, for browsers without CSP frame-ancestors.
        cross_origin_opener_policy: Cross-Origin-Opener-Policy.
        strict_transport_security: Strict-Transport-Security, sent on HTTPS responses only.
        extra: any further headers to add.
    """

    content_security_policy: str | None = DEFAULT_CSP
    content_type_options: str | None = "nosniff"
    referrer_policy: str | None = "strict-origin-when-cross-origin"
    frame_options: str | None = "DENY"
    cross_origin_opener_policy: str | None = "same-origin"
    strict_transport_security: str | None = "max-age=31536000; includeSubDomains"
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def always(self) -> tuple[tuple[str, str], ...]:
        """The headers for every response, in a form that is cheap to apply."""
        named = {
            "Content-Security-Policy": self.content_security_policy,
            "X-Content-Type-Options": self.content_type_options,
            "Referrer-Policy": self.referrer_policy,
            "X-Frame-Options": self.frame_options,
            "Cross-Origin-Opener-Policy": self.cross_origin_opener_policy,
        }
        pairs = [(name, value) for name, value in named.items() if value is not None]
        pairs.extend(self.extra.items())
        return tuple(pairs)


class SecurityHeadersApplier:
    """Adds the configured headers to a response start message, unless a view set them.

    It works on the ASGI message (bytes, lower-case names) rather than on the response
    object: it runs for every response, so it is kept to one pass over a short list.
    """

    def __init__(self, headers: SecurityHeaders) -> None:
        self._always = tuple(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.always()
        )
        hsts = headers.strict_transport_security
        self._hsts = (b"strict-transport-security", hsts.encode("latin-1")) if hsts else None

    def add_to(self, message: MutableMapping[str, Any], *, https: bool) -> None:
        headers = message.get("headers")
        # Quart builds a fresh list for each response, with lower-case names: extend it.
        headers = [] if headers is None else headers if type(headers) is list else list(headers)
        present = {name for name, _ in headers}
        for pair in self._always:
            if pair[0] not in present:
                headers.append(pair)
        if https and self._hsts is not None and self._hsts[0] not in present:
            headers.append(self._hsts)
        message["headers"] = headers


class SendWithSecurityHeaders:
    """An ASGI `send` that adds the security headers to the response start message.

    A small object rather than a closure: it is made for every request.
    """

    __slots__ = ("_applier", "_https", "_send")

    def __init__(
        self, send: ASGISendCallable, applier: SecurityHeadersApplier, *, https: bool
    ) -> None:
        self._send = send
        self._applier = applier
        self._https = https

    def __call__(self, message: ASGISendEvent) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self._applier.add_to(message, https=self._https)  # type: ignore[arg-type]
        return self._send(message)
