"""Credentials (scrypt-hashed, in an owner-only file) and expiring bearer tokens.

The seed's REST server authenticates ``admin`` / ``password`` by default (L718-L721) and lets a client change
them with ``Users/UpdateCredentials`` (L927-L962).  Here the credentials live in a JSON file readable only by
its owner (mode 0600), hashed with scrypt (``hashlib.scrypt``, RFC 7914) and a random salt; the password is
never stored or logged.  Tokens are random (``secrets.token_urlsafe``), opaque to clients (the seed shows
``"eyJhb....."``, a JWT, but clients only copy it into ``Authorization: Bearer ...``), held as SHA-256
digests and expire after ``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("cashdevice.rest.auth")

DEFAULT_USERNAME = "admin"
DEFAULT_PASSWORD = "password"
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_LEN = 2**14, 8, 1, 32


def default_credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cashdevice" / "rest-credentials.json"


def _kdf(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_LEN, maxmem=2**26)


@dataclass
class _Record:
    username: str
    salt: bytes
    digest: bytes
    n: int
    r: int
    p: int
    is_default: bool


class CredentialStore:
    """One username and its scrypt hash, persisted to ``path`` (created with the defaults if absent)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_credentials_path()
        self._lock = threading.Lock()
        self._record = self._load()

    @property
    def is_default(self) -> bool:
        return self._record.is_default

    def _load(self) -> _Record:
        if self.path.exists():
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                log.warning(
                    "credentials file %s was readable by others (mode %o); set to 0600", self.path, mode
                )
                os.chmod(self.path, 0o600)
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                return _Record(
                    str(data["username"]),
                    bytes.fromhex(data["salt"]),
                    bytes.fromhex(data["hash"]),
                    int(data["n"]),
                    int(data["r"]),
                    int(data["p"]),
                    bool(data.get("default", False)),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"credentials file {self.path} is not valid: {exc}") from None
        record = self._make(DEFAULT_USERNAME, DEFAULT_PASSWORD, is_default=True)
        self._save(record)
        return record

    @staticmethod
    def _make(username: str, password: str, *, is_default: bool) -> _Record:
        salt = secrets.token_bytes(16)
        return _Record(
            username,
            salt,
            _kdf(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P),
            SCRYPT_N,
            SCRYPT_R,
            SCRYPT_P,
            is_default,
        )

    def _save(self, record: _Record) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {
            "kdf": "scrypt",
            "username": record.username,
            "salt": record.salt.hex(),
            "hash": record.digest.hex(),
            "n": record.n,
            "r": record.r,
            "p": record.p,
            "default": record.is_default,
        }
        tmp = self.path.with_name(self.path.name + f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        os.chmod(self.path, 0o600)

    def verify(self, username: str, password: str) -> bool:
        rec = self._record
        digest = _kdf(password, rec.salt, rec.n, rec.r, rec.p)
        same_user = hmac.compare_digest(username.encode("utf-8"), rec.username.encode("utf-8"))
        return hmac.compare_digest(digest, rec.digest) and same_user

    def update(self, username: str, password: str) -> None:
        record = self._make(username, password, is_default=False)
        with self._lock:
            self._save(record)
            self._record = record


class TokenStore:
    """Random bearer tokens, kept as SHA-256 digests with a monotonic expiry time."""

    def __init__(self, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[bytes, float] = {}

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "replace")).digest()

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._tokens = {k: t for k, t in self._tokens.items() if t > now}
            self._tokens[self._key(token)] = now + self.ttl
        return token

    def valid(self, token: str) -> bool:
        with self._lock:
            expiry = self._tokens.get(self._key(token))
        return expiry is not None and expiry > self._clock()

    def revoke_all_but(self, token: str) -> None:
        keep = self._key(token)
        with self._lock:
            self._tokens = {k: t for k, t in self._tokens.items() if k == keep}
