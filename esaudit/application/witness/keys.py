"""Ed25519 keys for signing seals (the ``cryptography`` library).

``esaudit keygen --out KEY`` writes two PEM files:

- ``KEY``: the private key, PKCS #8, unencrypted, created with mode 0600 (only its owner
  reads it);
- ``KEY.pub``: the public key, SubjectPublicKeyInfo, to hand to whoever checks the seals.

A seal carries its signer's public key as the 32 raw bytes of RFC 8032, base64; its
fingerprint, ``sha256:`` and the SHA-256 of those 32 bytes in hex, is what to compare with the
public key file an auditor was given. Neither file is ever overwritten.

Checking a signature needs only the Ed25519 primitives; the PEM serialisation, which
doubles what importing ``cryptography`` costs a process, is loaded by the functions that read
or write key files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileError(ValueError):
    """A key file that cannot be written or read as an Ed25519 key (one line says why)."""


def public_path(private: Path) -> Path:
    """Where the public key of a private key file is written: beside it, ``.pub`` added."""
    return private.with_name(private.name + ".pub")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise KeyFileError(f"{path} exists; esaudit never overwrites a key file") from None
    except OSError as e:
        raise KeyFileError(f"cannot write {path}: {e.strerror}") from None
    try:
        os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, data)
    finally:
        os.close(fd)


def generate(private: Path) -> tuple[Path, Path, str]:
    """Write a new key pair; (private file, public file, the public key's fingerprint)."""
    public = public_path(private)
    if public.exists():
        raise KeyFileError(f"{public} exists; esaudit never overwrites a key file")
    from cryptography.hazmat.primitives import serialization
    key = Ed25519PrivateKey.generate()
    _write_new(private, key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()), 0o600)
    _write_new(public, key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return private, public, fingerprint(raw_public(key))


def load_private(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file ``keygen`` wrote."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KeyFileError(f"cannot read the key {path}: {e.strerror}") from None
    from cryptography.hazmat.primitives import serialization
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key (esaudit keygen makes one)")
    return key


def raw_public(key: Ed25519PrivateKey) -> bytes:
    """The 32 bytes of the key's public half (RFC 8032)."""
    return key.public_key().public_bytes_raw()


def fingerprint(public: bytes) -> str:
    """``sha256:<hex>`` of a raw public key: what people compare."""
    return "sha256:" + hashlib.sha256(public).hexdigest()


def sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    return key.sign(message)


def signature_holds(public: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is the raw public key's Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
