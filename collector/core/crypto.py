"""Encryption of secrets at rest (OAuth tokens), with key rotation.

``TOKEN_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated, newest
first: new values are encrypted with the first, old values decrypt with any, so
a key can be rotated without a migration. Development derives a key from
``SECRET_KEY``; production refuses to start without real ones (``key_problem``),
independent of ``SECRET_KEY``.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

GENERATE_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def parse_keys(token_keys: str) -> list[bytes]:
    """The keys of a ``TOKEN_ENCRYPTION_KEY`` value, newest first."""
    return [k.strip().encode() for k in token_keys.split(",") if k.strip()]


def derived_key(secret_key: str) -> bytes:
    """The key development derives from ``SECRET_KEY`` when no key is set. An install that
    ran so and moves to real keys lists this one last, as an old key, to keep reading."""
    digest = hashlib.sha256(b"collector-token-key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def key_problem(token_keys: str, secret_key: str) -> str | None:
    """What is wrong with ``token_keys`` for production, or None: each must be a Fernet
    key, and the one that encrypts (the first) must not be derivable from SECRET_KEY."""
    keys = parse_keys(token_keys)
    if not keys:
        return f"TOKEN_ENCRYPTION_KEY is not set. Generate one with: {GENERATE_KEY}"
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            return (
                f"TOKEN_ENCRYPTION_KEY (key {number} of {len(keys)}) is not a Fernet key "
                f"(32 bytes, url-safe base64). Generate one with: {GENERATE_KEY}"
            )
    if keys[0] in (derived_key(secret_key), secret_key.encode()):
        return (
            "TOKEN_ENCRYPTION_KEY's first key comes from SECRET_KEY; it must be a key of its "
            f"own. Generate one with: {GENERATE_KEY}"
        )
    return None


class TokenCipher:
    """Encrypts and decrypts short secrets (str in, str out)."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_config(cls, token_keys: str, secret_key: str) -> "TokenCipher":
        keys = parse_keys(token_keys) or [derived_key(secret_key)]
        return cls(keys)

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the configured keys") from exc
