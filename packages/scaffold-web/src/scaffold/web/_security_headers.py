"""Security headers added to every response unless the response already sets them."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from quart.wrappers import Response
    from werkzeug.wrappers import Response as WerkzeugResponse

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
    """Adds the configured headers to a response, leaving those a view set itself."""

    def __init__(self, headers: SecurityHeaders) -> None:
        self._always = headers.always()
        self._hsts = headers.strict_transport_security

    def apply(self, response: Response | WerkzeugResponse, *, https: bool) -> None:
        target = response.headers
        for name, value in self._always:
            if name not in target:
                target[name] = value
        if https and self._hsts is not None and "Strict-Transport-Security" not in target:
            target["Strict-Transport-Security"] = self._hsts
