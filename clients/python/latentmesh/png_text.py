"""Reads the tEXt chunks of a PNG (the generator tags prompt, seed, steps, ... there)."""
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_text(png):
    """Returns the tEXt (and uncompressed iTXt) key/value pairs of ``png`` as a dict.

    Raises ValueError when the bytes are not a PNG or a chunk's CRC is wrong.
    """
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG: the 8-byte signature is missing")
    out = {}
    pos = len(PNG_SIGNATURE)
    while pos + 12 <= len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + data) & 0xFFFFFFFF != crc:
            raise ValueError(f"PNG chunk {kind!r} at byte {pos} has a bad CRC")
        if kind == b"tEXt":
            key, _, value = data.partition(b"\x00")
            out[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = data.partition(b"\x00")
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\x00")
            _translated, _, text = rest.partition(b"\x00")
            if not compressed:
                out[key.decode("latin-1")] = text.decode("utf-8")
        elif kind == b"IEND":
            break
        pos += 12 + length
    return out
