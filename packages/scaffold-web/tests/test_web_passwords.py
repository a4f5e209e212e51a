"""PasswordHasher: Argon2id hashes, verification, rehash on login."""

from __future__ import annotations

import pytest

from scaffold.web import PasswordHasher

# Small parameters keep the tests fast; production uses argon2-cffi's defaults.
FAST = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}


def test_hash_and_verify() -> None:
    """A password verifies against its own hash and no other password does."""
    hasher = PasswordHasher(**FAST)
    stored = hasher.hash("correct horse")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "correct horse").valid
    assert not hasher.verify(stored, "wrong horse")


def test_hashes_are_salted() -> None:
    """The same password hashes differently each time."""
    hasher = PasswordHasher(**FAST)
    assert hasher.hash("secret") != hasher.hash("secret")


def test_rehash_when_parameters_change() -> None:
    """A hash made with older parameters verifies and comes back with a new hash to store."""
    old = PasswordHasher(**FAST).hash("secret")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    result = stronger.verify(old, "secret")
    assert result.valid
    assert result.new_hash is not None
    assert not stronger.needs_rehash(result.new_hash)
    assert stronger.verify(result.new_hash, "secret").new_hash is None


def test_no_rehash_for_a_wrong_password() -> None:
    """A wrong password never yields a new hash."""
    old = PasswordHasher(**FAST).hash("secret")
    result = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).verify(old, "nope")
    assert result.valid is False
    assert result.new_hash is None


def test_a_stored_value_that_is_no_hash_is_an_error() -> None:
    """Garbage in the password column is a data error, not a failed login."""
    with pytest.raises(ValueError, match="not an Argon2 hash"):
        PasswordHasher(**FAST).verify("plaintext-password", "plaintext-password")


def test_empty_password_is_refused() -> None:
    """Hashing an empty password is refused."""
    with pytest.raises(ValueError, match="must not be empty"):
        PasswordHasher(**FAST).hash("")


async def test_async_variants_run_off_the_event_loop() -> None:
    """ahash and averify give the same results as their synchronous twins."""
    hasher = PasswordHasher(**FAST)
    stored = await hasher.ahash("secret")
    assert (await hasher.averify(stored, "secret")).valid
    assert not (await hasher.averify(stored, "other")).valid
