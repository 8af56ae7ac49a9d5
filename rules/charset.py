"""Which encoding a page's bytes are in, decided as browsers do.

Order: the caller's charset (the Content-Type header), else a byte order mark,
else the HTML5 meta prescan of the first 1024 bytes, else UTF-8 when the bytes
are valid UTF-8, else windows-1252. Labels map to codecs as the WHATWG Encoding
standard says (latin1 and ascii mean windows-1252; a meta utf-16 means utf-8).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

PRESCAN_BYTES = 1024

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)

# WHATWG label aliases that Python names differently or more strictly.
ALIASES: dict[str, str] = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "windows-1252": "cp1252",
    "x-sjis": "shift_jis",
    "gb2312": "gbk",
    "x-gbk": "gbk",
    "iso-8859-9": "cp1254",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
    "ks_c_5601-1987": "euc-kr",
    "x-user-defined": "cp1252",
}

# Encodings in which an ASCII digit, '<', '&' or '"' byte may be part of another
# character, so a byte-level scan would be wrong. Pages in them pass through untouched.
UNSCANNABLE = frozenset(
    {"utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le", "gb18030", "hz"}
    | {"iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_ext", "iso2022_kr"}
    | {"utf_7"}
)

_META = re.compile(rb"<!--.*?-->|<meta[\t\n\f\r /][^>]*>", re.IGNORECASE | re.DOTALL)
_META_CHARSET = re.compile(rb"""charset[\t\n\f\r ]*=[\t\n\f\r ]*["']?([^\t\n\f\r ;"'/>]+)""", re.I)
_HTTP_EQUIV = re.compile(rb"""http-equiv[\t\n\f\r ]*=[\t\n\f\r ]*["']?content-type""", re.I)
_CONTENT = re.compile(
    rb"""content[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r >]+))""", re.I
)
_CHARSET_ATTR = re.compile(
    rb"""(?<![-\w])charset[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r />]+))""",
    re.I,
)


def lookup(label: str) -> str | None:
    """The Python codec name for an encoding label, or None when unknown."""
    name = label.strip().strip("\"'").lower()
    name = ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def detect(body: bytes, declared: str | None = None) -> str:
    """The codec name of `body`, by the precedence in the module docstring."""
    if declared and (name := lookup(declared)):
        return name
    for bom, name in BOMS:
        if body.startswith(bom):
            return name
    if (label := prescan(body[:PRESCAN_BYTES])) and (name := lookup(label)):
        return "utf-8" if name.startswith("utf_16") or name.startswith("utf-16") else name
    if body.isascii():
        return "utf-8"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def prescan(head: bytes) -> str | None:
    """The charset label of the first <meta> that declares one, skipping comments."""
    for match in _META.finditer(head):
        tag = match.group()
        if tag.startswith(b"<!--"):
            continue
        if charset := _CHARSET_ATTR.search(tag):
            value = next(g for g in charset.groups() if g is not None)
            return value.decode("ascii", "replace").strip()
        if _HTTP_EQUIV.search(tag) and (content := _CONTENT.search(tag)):
            value = next(g for g in content.groups() if g is not None)
            if found := _META_CHARSET.search(value):
                return found.group(1).decode("ascii", "replace")
    return None


def scannable(name: str) -> bool:
    return codecs.lookup(name).name.replace("-", "_") not in UNSCANNABLE


WIDE = frozenset({"utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-32"})


@dataclass(frozen=True)
class Wide:
    """A UTF-16/32 page seen as UTF-8 for scanning, and the way back to its own bytes."""

    utf8: bytes
    codec: str
    bom: bytes

    def back(self, utf8: bytes) -> bytes:
        return self.bom + utf8.decode("utf-8", "surrogatepass").encode(self.codec, "surrogatepass")


def widen(body: bytes, name: str) -> Wide | None:
    """The UTF-8 view of a UTF-16/32 page, lossless both ways; None for other encodings."""
    if name not in WIDE:
        return None
    bom = next((b for b in _WIDE_BOMS if body.startswith(b)), b"")
    codec = _WIDE_BOMS.get(bom) or (name if name[-3:] in ("-le", "-be") else name + "-le")
    try:
        text = body[len(bom) :].decode(codec, "surrogatepass")
    except UnicodeDecodeError:
        return None
    return Wide(text.encode("utf-8", "surrogatepass"), codec, bom)


_WIDE_BOMS: dict[bytes, str] = {
    codecs.BOM_UTF32_LE: "utf-32-le",
    codecs.BOM_UTF32_BE: "utf-32-be",
    codecs.BOM_UTF16_LE: "utf-16-le",
    codecs.BOM_UTF16_BE: "utf-16-be",
}
