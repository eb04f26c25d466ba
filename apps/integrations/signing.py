"""Endpoint secrets (generated, encrypted at rest) and the signature scheme of docs/webhooks.md.

``Webhook-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``; during a rotation's grace
period the header carries one ``v1=`` per valid secret, newest first, separated by a space. The HMAC
key is the whole secret string (``whsec_...``) as UTF-8 bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

SECRET_PREFIX = "whsec_"
SCHEME = "v1"


def generate_secret() -> str:
    return SECRET_PREFIX + _secrets.token_urlsafe(32)


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "WEBHOOK_SECRET_KEYS", []) or [])
    if not keys:
        derived = hashlib.sha256(f"webhook-secrets:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # the encryption keys changed without WEBHOOK_SECRET_KEYS keeping the old one
        raise RuntimeError("A webhook secret cannot be decrypted: check WEBHOOK_SECRET_KEYS.") from exc


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int | str, body: bytes) -> str:
    return " ".join(f"{SCHEME}={sign(secret, timestamp, body)}" for secret in secrets)
