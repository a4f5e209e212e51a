"""Password hashing with Argon2id, rehashing on login when the parameters change."""

from __future__ import annotations

import asyncio
import dataclasses

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking a password at login.

    Attributes:
        valid: the password matches the hash.
        new_hash: when valid and the hash was made with weaker or older parameters, a fresh
            hash of the same password to store instead; otherwise ``None``.
    """

    valid: bool
    new_hash: str | None = None

    def __bool__(self) -> bool:
        return self.valid


class PasswordHasher:
    """Hashes and checks passwords with Argon2id (argon2-cffi's RFC 9106 low-memory profile).

    Hashing takes tens of milliseconds of CPU on purpose; the ``a``-prefixed methods run
    it in a worker thread so the event loop keeps serving other requests meanwhile.

    Parameters:
        time_cost, memory_cost, parallelism: Argon2 parameters; leave them at the defaults
            unless you have measured. Changing them makes `verify` hand out new hashes.
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism
        )

    def hash(self, password: str) -> str:
        """A salted hash of `password`, to store instead of the password."""
        if not password:
            raise ValueError("the password to hash must not be empty")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> VerifyResult:
        """Check `password` against `stored_hash`; a wrong password is ``valid=False``.

        A stored value that is not an Argon2 hash at all raises `ValueError`: that is a
        data problem to see, not a failed login to hide.
        """
        try:
            self._hasher.verify(stored_hash, password)
        except InvalidHashError as error:
            raise ValueError(f"the stored password hash is not an Argon2 hash: {error}") from None
        except VerificationError:
            return VerifyResult(valid=False)
        if self._hasher.check_needs_rehash(stored_hash):
            return VerifyResult(valid=True, new_hash=self._hasher.hash(password))
        return VerifyResult(valid=True)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    async def ahash(self, password: str) -> str:
        return await asyncio.to_thread(self.hash, password)

    async def averify(self, stored_hash: str, password: str) -> VerifyResult:
        return await asyncio.to_thread(self.verify, stored_hash, password)
