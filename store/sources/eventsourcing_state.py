"""How the Python ``eventsourcing`` library stores an event's state, read without the library.

eventsourcing's mapper turns a domain event into ``(originator_id, originator_version, topic,
state)``: ``state`` is the event's attributes (minus id and version) encoded by its
``JSONTranscoder``, then compressed (``ZlibCompressor``) and then encrypted (``AESCipher``:
AES-GCM, ``nonce(12) + tag(16) + ciphertext``, key base64 in ``CIPHER_KEY``) when the
application is configured so. The transcoder writes values JSON has no type for as
``{"_type_": NAME, "_data_": TEXT}`` (``decimal_str``, ``uuid_hex``, ``datetime_iso`` and the
application's own transcodings). esaudit keeps those objects as they are: the payload shows
the value together with the type the source recorded, never a bare string that reads like text.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import uuid
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import StoreError
from ..hashing import decode_json

TYPED_KEYS = frozenset(("_type_", "_data_"))

TYPE_NAMES: Mapping[str, str] = {"decimal_str": "Decimal", "uuid_hex": "UUID",
                                 "datetime_iso": "datetime"}
"""eventsourcing's own transcoding names and the Python types they stand for."""


class StateUnreadable(StoreError):
    """A stored state esaudit cannot decode (encrypted without the key, or damaged)."""


class _Cipher:
    """eventsourcing's AES-GCM layout, decrypted with the ``cryptography`` library (the one
    ``eventsourcing.cryptography.AESCipher`` uses; ``eventsourcing.cipher`` writes the same
    bytes with pycryptodome)."""

    def __init__(self, key_text: str) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as e:  # pragma: no cover - cryptography is a dependency
            raise StoreError("reading encrypted eventsourcing states needs the "
                             "'cryptography' package") from e
        try:
            key = base64.b64decode(key_text.encode(), validate=True)
        except (binascii.Error, ValueError) as e:
            raise StoreError("CIPHER_KEY is not base64 text (eventsourcing's "
                             "AESCipher.create_key makes one)") from e
        if len(key) not in (16, 24, 32):
            raise StoreError(f"CIPHER_KEY decodes to {len(key)} bytes; an AES key has 16, 24 "
                             "or 32")
        self._aes = AESGCM(key)

    def decrypt(self, data: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        nonce, tag, body = data[:12], data[12:28], data[28:]
        try:
            return self._aes.decrypt(nonce, body + tag, None)
        except (InvalidTag, ValueError) as e:
            raise StateUnreadable("an encrypted state does not open with the CIPHER_KEY given "
                                  "(wrong key, or a damaged state)") from e


class StateReader:
    """Decodes states; ``cipher_key`` is the application's ``CIPHER_KEY`` (or None)."""

    def __init__(self, cipher_key: str | None = None) -> None:
        self._cipher = None if cipher_key is None else _Cipher(cipher_key)

    @property
    def may_be_encrypted(self) -> bool:
        """Whether a state that starts like JSON may still be ciphertext (a key was given)."""
        return self._cipher is not None

    def decode(self, raw: bytes | memoryview, where: str | Callable[[], str],
               ) -> tuple[dict[str, Any], str]:
        """(the state's attributes, how it was stored: ``json``, ``zlib+json``,
        ``aes-gcm+json`` or ``aes-gcm+zlib+json``); ``where`` names the row in an error (a
        callable: built only if there is one)."""
        data = raw if type(raw) is bytes else bytes(raw)
        if data[:1] == b"{":
            try:
                state = decode_json(data)
            except ValueError:
                state = None
            if type(state) is dict:
                return state, "json"
        try:
            return self._decode_layers(data)
        except StateUnreadable as e:
            place = where() if callable(where) else where
            raise StateUnreadable(f"{place}: {e}") from e

    def plain(self, raw: bytes | memoryview, where: str | Callable[[], str]) -> bytes:
        """The state's JSON text with the cipher and compressor layers taken off, not parsed:
        what the library's mapper hands its transcoder (a plain state is returned as stored;
        with a cipher key, a state that only starts like JSON is still tried as ciphertext)."""
        data = raw if type(raw) is bytes else bytes(raw)
        if data[:1] == b"{":
            if self._cipher is None:
                return data
            with contextlib.suppress(ValueError):
                if type(decode_json(data)) is dict:
                    return data
        try:
            return self._unwrap(data)[0]
        except StateUnreadable as e:
            place = where() if callable(where) else where
            raise StateUnreadable(f"{place}: {e}") from e

    def _decode_layers(self, data: bytes) -> tuple[dict[str, Any], str]:
        """A state that is not plain JSON: compressed, encrypted, or both (compressed first,
        then encrypted, as eventsourcing's mapper writes them)."""
        data, layers = self._unwrap(data)
        try:
            state = decode_json(data)
        except ValueError as e:
            raise StateUnreadable(f"a state is not JSON after {'+'.join(layers)} ({e})") from e
        if not isinstance(state, dict):
            raise StateUnreadable("a state is JSON but not an object")
        layers.append("json")
        return state, "+".join(layers)

    def _unwrap(self, data: bytes) -> tuple[bytes, list[str]]:
        """(the bytes inside a compressed and/or encrypted state, the layers taken off)."""
        layers: list[str] = []
        if _looks_zlib(data):
            try:
                data = zlib.decompress(data)
                layers.append("zlib")
            except zlib.error:
                pass  # an encrypted state whose random nonce starts like a zlib header
        if not layers:
            if self._cipher is None:
                raise StateUnreadable(
                    "the states are encrypted (eventsourcing cipher); set CIPHER_KEY to "
                    "the key the application uses")
            data = self._cipher.decrypt(data)
            layers.append("aes-gcm")
            if _looks_zlib(data):
                try:
                    data = zlib.decompress(data)
                    layers.append("zlib")
                except zlib.error as e:
                    raise StateUnreadable(f"a decrypted state is not zlib data ({e})") from e
        return data, layers


def _looks_zlib(data: bytes) -> bool:
    """A zlib stream's two-byte header: deflate with a 32K window (0x78) and a check value."""
    return len(data) > 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0


def typed_value(value: Any) -> tuple[str, str] | None:
    """(the value's text, its type name) when ``value`` is a transcoded object, else None."""
    if isinstance(value, dict) and value.keys() == TYPED_KEYS:
        name, data = value["_type_"], value["_data_"]
        if isinstance(name, str):
            if name == "uuid_hex" and isinstance(data, str):
                with contextlib.suppress(ValueError):  # as the application prints it
                    data = str(uuid.UUID(hex=data))
            return (data if isinstance(data, str) else repr(data)), TYPE_NAMES.get(name, name)
    return None
