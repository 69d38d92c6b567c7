"""Private keys stored in the database are sealed with a key derived from the app's secret.

A database dump alone then yields no usable key. Changing EPHYTO_GENS_SECRET_KEY makes stored
keys unreadable: re-enter them (or keep keys as files and store only their paths).
"""

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from generic_national_system.errors import GensError


class SealedSecretUnreadable(GensError):
    status = 500
    code = "sealed_secret_unreadable"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"gens stored private keys"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plaintext: bytes, *, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(plaintext).decode("ascii")


def unseal(sealed: str, *, secret_key: str) -> bytes:
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii"))
    except InvalidToken as exc:
        raise SealedSecretUnreadable(
            "a stored private key cannot be decrypted: the secret key changed since it was "
            "stored; enter the key again"
        ) from exc
