"""Bytes -> text: BOMs, UTF-8, legacy encodings; binary files refused with a reason."""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes

_MAGIC = {b"\x89PNG": "PNG image", b"\x1f\x8b": "gzip archive", b"PK\x03\x04": "zip archive",
          b"%PDF": "PDF document", b"\xff\xd8\xff": "JPEG image", b"GIF8": "GIF image"}
# Longest BOM first: a UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le", 4), (codecs.BOM_UTF32_BE, "utf-32-be", 4),
         (codecs.BOM_UTF8, "utf-8", 1), (codecs.BOM_UTF16_LE, "utf-16-le", 2), (codecs.BOM_UTF16_BE, "utf-16-be", 2))
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
# Among equally plausible readings, the commonest legacy charsets win (guessing ties are frequent).
_PREFERRED = ("cp1250", "iso8859_2", "cp1251", "koi8_r", "cp1253", "iso8859_7", "cp1254", "cp1257", "iso8859_15")


class DecodeError(ValueError):
    """The bytes are not text we can read; the message is the one-line reason."""


def decode_bytes(raw: bytes) -> str:
    """Decode by BOM, then UTF-8 (a cut-off tail or a few bad bytes dropped), then legacy charsets."""
    if not raw.strip():
        raise DecodeError("empty file")
    for magic, kind in _MAGIC.items():
        if raw.startswith(magic):
            raise DecodeError(f"binary file ({kind})")
    for bom, enc, unit in _BOMS:
        if raw.startswith(bom):
            body = raw[len(bom):]
            body = body[:len(body) - len(body) % unit]  # a file capped at max_file_bytes may end mid-unit
            text = body.decode(enc, errors="replace")
            if text.count("\ufffd") > max(2, len(text) // 100):
                raise DecodeError(f"undecodable text (bad {enc})")
            return text.replace("\ufffd", "")
    if b"\x00" in raw[:4096]:
        raise DecodeError("binary file (contains NUL bytes)")
    utf8 = _utf8(raw)
    if utf8 is not None:
        return utf8
    return _legacy(raw)


def _utf8(raw: bytes) -> str | None:
    """UTF-8 text, tolerating a sequence cut off at the end and a few stray bytes in real UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start >= len(raw) - 3 and e.reason == "unexpected end of data":
            return raw[:e.start].decode("utf-8", errors="replace").replace("\ufffd", "")
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    # Legacy single-byte text almost never forms valid multi-byte sequences; real UTF-8 does.
    if multibyte > 0 and bad <= multibyte:
        return text.replace("\ufffd", "")
    return None


def _legacy(raw: bytes) -> str:
    """cp1252 when it is among the least chaotic readings (charset guessing often says cp1250)."""
    sample = raw[:200_000]
    matches = [m for m in from_bytes(sample) if m.encoding and not m.encoding.startswith(("utf_16", "utf_32"))]
    cp1252_ok = not any(b in _CP1252_UNDEFINED for b in sample)
    if matches:
        least = min(m.chaos for m in matches)
        calm = [m for m in matches if m.chaos <= least + 0.01]
        if cp1252_ok and (any(m.encoding == "cp1252" for m in calm) or max(m.coherence for m in calm) == 0):
            return raw.decode("cp1252")
        calm.sort(key=lambda m: _PREFERRED.index(m.encoding) if m.encoding in _PREFERRED else len(_PREFERRED))
        try:
            return raw.decode(calm[0].encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    if cp1252_ok:
        return raw.decode("cp1252")
    return raw.decode("latin-1")
