"""Encrypting a clinic's SATUSEHAT client secret and token at rest, with keys from the environment.

`SATUSEHAT_SECRET_KEYS` holds keys, comma-separated: the first encrypts, all decrypt (to rotate, put the
new key first). A key is a Fernet key, or any long random string (Heroku's generated secret), from
which one is derived. Development and tests derive a key from SECRET_KEY. A value that does not
decrypt (the key was changed) reads as missing: the owner enters the secret again.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _key(text: str) -> Fernet:
    try:
        return Fernet(text)
    except ValueError:
        derived = hashlib.sha256(b"satusehat-secrets:" + text.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    configured = [key.strip() for key in settings.SATUSEHAT_SECRET_KEYS.split(",") if key.strip()]
    return MultiFernet([_key(key) for key in configured or [settings.SECRET_KEY]])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str | None:
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
