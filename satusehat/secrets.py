"""Encrypting a clinic's SATUSEHAT client secret and token at rest, with keys from the environment.

`SATUSEHAT_SECRET_KEYS` holds Fernet keys, comma-separated: the first encrypts, all decrypt (to rotate,
put the new key first). Development and tests derive a key from SECRET_KEY. A value that does not
decrypt (the key was changed) reads as missing: the owner enters the secret again.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    configured = [key.strip() for key in settings.SATUSEHAT_SECRET_KEYS.split(",") if key.strip()]
    if not configured:
        derived = hashlib.sha256(b"satusehat-secrets:" + settings.SECRET_KEY.encode()).digest()
        configured = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in configured])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str | None:
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
