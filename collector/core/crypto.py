"""Encryption of secrets at rest (OAuth tokens), with key rotation.

``TOKEN_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated, newest
first: new values are encrypted with the first, old values decrypt with any, so
a key can be rotated without a migration. Development derives a key from
``SECRET_KEY``; production refuses to start without a real one.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class TokenCipher:
    """Encrypts and decrypts short secrets (str in, str out)."""

    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    @classmethod
    def from_config(cls, token_keys: str, secret_key: str) -> "TokenCipher":
        keys = [k.strip().encode() for k in token_keys.split(",") if k.strip()]
        if not keys:
            digest = hashlib.sha256(b"collector-token-key:" + secret_key.encode()).digest()
            keys = [base64.urlsafe_b64encode(digest)]
        return cls(keys)

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the configured keys") from exc
