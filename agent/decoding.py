"""Bytes -> text: BOMs, UTF-8, legacy encodings; binary files refused with a reason."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

_MAGIC = {b"\x89PNG": "PNG image", b"\x1f\x8b": "gzip archive", b"PK\x03\x04": "zip archive",
          b"%PDF": "PDF document", b"\xff\xd8\xff": "JPEG image", b"GIF8": "GIF image"}


class DecodeError(ValueError):
    """The bytes are not text we can read; the message is the one-line reason."""


def decode_bytes(raw: bytes) -> str:
    """Decode by BOM, then UTF-8, then charset detection (cp1252, latin-1...)."""
    if not raw.strip():
        raise DecodeError("empty file")
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            raise DecodeError(f"binary file ({kind})")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                raise DecodeError(f"undecodable text (bad {enc})") from None
    if b"\x00" in raw[:4096]:
        raise DecodeError("binary file (contains NUL bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw[:200_000]).best()
    if best is None or best.encoding is None:
        return raw.decode("utf-8", errors="replace")
    try:
        return raw.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return raw.decode("utf-8", errors="replace")
