"""Raw dump bytes -> a normalized article, or a rejection with a reason code.

Pure functions, no I/O. `parse_document` never raises on any input: it returns
an `Article` or a `Rejection`. The grammar it accepts is documented in
docs/parsing.md, with a fixture for each form under tests/fixtures/parsing/.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from news_archive.boilerplate import RuleSet, default_rules, strip_boilerplate
from news_archive.dates import parse_date, split_leading_date

# Bump when a change of this module changes what it outputs for some input; the
# boilerplate rule list carries its own version, appended to this one.
PARSER_CODE_VERSION = "1.4"  # 1.4: a trailing-sentence rule only at a paragraph's end; 1.3: nested HTML blocks read once

KNOWN_KEYS = ("date", "title", "source", "url", "author", "language")
REASONS = {
    "empty": "the file is empty or holds only white space",
    "binary": "the file is binary, not text",
    "too_large": "the file is larger than the configured limit",
    "undecodable": "the bytes cannot be decoded as text",
    "no_title": "no title could be found",
    "body_too_short": "the body is shorter than the configured minimum",
    "unparseable_html": "the HTML could not be parsed",
}
BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"\xff\xd8\xff", b"GIF8",
    b"\x7fELF", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"MZ", b"\x00asm",
)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_COLON_HEADER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.-]{0,40})\s*:\s*(.*?)\s*$")
_BARE_HEADER = re.compile(r"^\s*(date|title|source|url|author|language)\s+(\S.*?)\s*$", re.I)
_URL = re.compile(r"^https?://\S+$", re.I)
_LANG = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$", re.I)
_HTML_SNIFF = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|article|main|h1|title|p|div)\b[^>]*>", re.I)
# HTML elements (HTML 4, HTML5 and the obsolete ones old pages still carry). A tag of one of
# these is markup wherever it appears; angle-bracketed text that names no element (wire
# tickers <SJG> <IBM.N>, addresses <jane@example.com>, quotes <<) is text.
HTML_ELEMENTS = frozenset("""
    a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink
    blockquote body br button canvas caption center cite code col colgroup data datalist dd del details
    dfn dialog dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3
    h4 h5 h6 head header hgroup hr html i iframe img input ins isindex kbd keygen label legend li link
    listing main map mark marquee math menu menuitem meta meter nav nobr noembed noframes noscript object
    ol optgroup option output p param picture plaintext pre progress q rb rp rt rtc ruby s samp script
    search section select slot small source spacer span strike strong style sub summary sup svg table
    tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr xmp
""".split())
# One known element's opening or closing tag (attributes allowed), or an HTML comment.
HTML_MARKUP_REGEX = (
    r"(?i)<\s*/?\s*(?:" + "|".join(sorted(HTML_ELEMENTS, key=lambda e: (-len(e), e)))
    + r")(?:\s[^<>]*)?/?\s*>|<!--"
)
_HTML_TAG = re.compile(HTML_MARKUP_REGEX)
# UTF-8 read as cp1252/latin-1 leaves a lead byte (Â..ô) before a continuation
# byte's cp1252 character; only text with that shape is handed to ftfy.
_MOJIBAKE_SHAPE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def parser_version(rules: RuleSet | None = None) -> str:
    return f"{PARSER_CODE_VERSION}+rules.{(rules or default_rules()).version}"


@dataclass
class Article:
    title: str
    body: str
    published_at: datetime | None
    published_precision: str | None
    source_format: str  # plain | inline_header | header_block | html
    encoding: str
    parser_version: str
    source: str | None = None
    url: str | None = None
    author: str | None = None
    language: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)
    parse_warnings: list[str] = field(default_factory=list)
    boilerplate_removed: list[dict] = field(default_factory=list)
    title_derived: bool = False  # no title line: the title is the body's first sentence

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def content_hash(self) -> str:
        """sha256 of the normalized title and body: equal hashes, same article."""
        return hashlib.sha256(f"{self.title}\n\n{self.body}".encode()).hexdigest()

    @property
    def body_hash(self) -> str:
        return hashlib.sha256(self.body.encode()).hexdigest()


@dataclass
class Rejection:
    reason: str
    message: str
    encoding: str | None = None
    parser_version: str = ""
    parse_warnings: list[str] = field(default_factory=list)


def parse_document(
    raw: bytes,
    *,
    max_bytes: int = 5 * 1024 * 1024,
    min_body_words: int = 50,
    rules: RuleSet | None = None,
) -> Article | Rejection:
    """Parse one raw dump. Never raises."""
    rules = rules or default_rules()
    version = parser_version(rules)
    try:
        return _parse(raw, max_bytes, min_body_words, rules, version)
    except RecursionError:
        return Rejection("unparseable_html", "the document nests too deeply to parse", parser_version=version)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises": report, don't crash the batch
        return Rejection("unparseable", f"parser error {type(exc).__name__}: {exc}", parser_version=version)


def _parse(raw: bytes, max_bytes: int, min_body_words: int, rules: RuleSet, version: str) -> Article | Rejection:
    if len(raw) > max_bytes:
        return Rejection("too_large", f"{len(raw):,} bytes is over the limit of {max_bytes:,} bytes", parser_version=version)
    if not raw.strip():
        return Rejection("empty", REASONS["empty"], parser_version=version)
    decoded = decode(raw)
    if isinstance(decoded, Rejection):
        decoded.parser_version = version
        return decoded
    text, encoding, warnings = decoded
    text = normalize_text(text, warnings)
    if not text.strip():
        return Rejection("empty", REASONS["empty"], encoding, version, warnings)
    if _HTML_SNIFF.search(text[:4096]):
        from news_archive.htmldoc import parse_html  # bs4 only when a document needs it

        fields = parse_html(text)
        fmt = "html"
    else:
        fields = parse_text(text)
        fmt = fields.pop("format")
    warnings.extend(fields.pop("warnings"))
    title = fold(fields.pop("title") or "")
    paragraphs = fields.pop("paragraphs")
    title_derived = False
    if fmt != "html" and title and (not paragraphs or len(title) > MAX_TITLE_CHARS):
        # A headless dump: what stood where the title goes is a paragraph (the only one, or
        # longer than any title). It stays in the body; its first sentence is the title.
        paragraphs = [title, *paragraphs]
        title, title_derived = derive_title(title), True
    elif fmt != "html" and title and paragraphs and not any(c.isalnum() for c in title):
        # A title line of punctuation alone (",", "--") names nothing: the body's first
        # sentence is the title.
        title, title_derived = derive_title(paragraphs[0]), True
    if not title:
        return Rejection("no_title", REASONS["no_title"], encoding, version, warnings)
    paragraphs, removed = strip_boilerplate(paragraphs, rules)
    removed = fields.pop("removed", []) + removed
    body = "\n\n".join(paragraphs)
    words = len(body.split())
    if words < min_body_words:
        return Rejection(
            "body_too_short",
            f"the body has {words} words; at least {min_body_words} are required",
            encoding, version, warnings,
        )
    headers: dict[str, str] = fields.pop("headers")
    published_at = precision = None
    if raw_date := headers.pop("date", None):
        parsed = parse_date(raw_date)
        published_at, precision = parsed.value, parsed.precision
        if parsed.warning:
            warnings.append(f"date: {parsed.warning}")
    return Article(
        title=title,
        body=body,
        published_at=published_at,
        published_precision=precision,
        source_format=fmt,
        encoding=encoding,
        parser_version=version,
        source=headers.pop("source", None),
        url=headers.pop("url", None),
        author=headers.pop("author", None),
        language=headers.pop("language", None),
        extra_headers=headers,
        parse_warnings=warnings,
        boilerplate_removed=removed,
        title_derived=title_derived,
    )


MAX_TITLE_CHARS = 300
# The end of the first sentence: . ! or ? (and closing quotes) before white space and a
# capital, digit or opening quote; "U.S. officials" or "3.5 percent" do not end one.
_FIRST_SENTENCE_END = re.compile(r"(?<![A-Z])(?<!\b[A-Z][a-z])[.!?][\"'”’)]*(?=\s+[\"'“‘(]?[A-Z0-9])")


def derive_title(paragraph: str, limit: int = MAX_TITLE_CHARS) -> str:
    """The first sentence of `paragraph`, at most `limit` characters, cut at a word."""
    text = fold(paragraph)
    m = _FIRST_SENTENCE_END.search(text)
    sentence = text[: m.end()] if m else text
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit + 1].rsplit(" ", 1)[0] if " " in sentence[:limit + 1] else sentence[:limit]
    return cut[:limit].rstrip(" ,;:-–—")


def decode(raw: bytes) -> tuple[str, str, list[str]] | Rejection:
    """Bytes -> (text, encoding, warnings); binary or undecodable input is rejected."""
    warnings: list[str] = []
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec, warnings
            except UnicodeDecodeError as exc:
                return Rejection("undecodable", f"starts with a {codec} byte order mark but is not {codec}: {exc.reason}", codec)
    head = raw[:65536]
    if head.startswith(BINARY_MAGIC):
        return Rejection("binary", f"{REASONS['binary']} (file signature {head[:4]!r})")
    if len(head) >= 4 and head[1::2].count(0) > 0.9 * (len(head) // 2) and head[0::2].count(0) < 0.1 * len(head):
        try:  # UTF-16LE without a byte order mark: ASCII text with every other byte NUL
            return raw.decode("utf-16-le"), "utf-16-le", ["no byte order mark: read as UTF-16LE"]
        except UnicodeDecodeError:
            pass
    nul = head.count(0)
    controls = sum(head.count(c) for c in _CONTROL) - nul
    if nul > 0.1 * len(head) or controls > 0.05 * len(head):
        return Rejection("binary", f"{REASONS['binary']} ({nul} NUL and {controls} other control bytes in the first {len(head):,})")
    try:
        return raw.decode("utf-8"), "utf-8", warnings
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    try:
        text = raw.decode("cp1252")
        encoding = "cp1252" if any(0x80 <= b <= 0x9F for b in raw) else "latin-1"
    except UnicodeDecodeError:
        text, encoding = raw.decode("latin-1"), "latin-1"
    warnings.append(f"not valid UTF-8 (byte {bad_at}): decoded as {encoding}")
    return text, encoding, warnings


def normalize_text(text: str, warnings: list[str]) -> str:
    """Mojibake repair, NUL removal, line endings, Unicode NFC."""
    if "\x00" in text:
        warnings.append(f"removed {text.count(chr(0))} NUL characters")
        text = text.replace("\x00", "")
    if not text.isascii() and _MOJIBAKE_SHAPE.search(text):
        import ftfy

        fixed = ftfy.fix_encoding(text)
        if fixed != text:
            warnings.append("repaired mojibake (text had been decoded with the wrong encoding)")
            text = fixed
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\v", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = unicodedata.normalize("NFC", text)
    if any(unicodedata.category(c) == "Cf" for c in set(text)):
        # Format characters (Unicode category Cf: zero-width spaces and joiners, soft
        # hyphens, bidirectional controls like U+202E) are invisible, and can make a title
        # display as something it is not. The raw bytes keep them; the text does not.
        removed = Counter(c for c in text if unicodedata.category(c) == "Cf")
        text = "".join(c for c in text if unicodedata.category(c) != "Cf")
        warnings.append("removed invisible format characters: " + ", ".join(
            f"U+{ord(c):04X} x{n}" for c, n in sorted(removed.items())))
    return text


def fold(text: str) -> str:
    return " ".join(text.split())


def paragraphs_of(lines: list[str]) -> list[str]:
    """Blank lines separate paragraphs; lines inside one keep their breaks."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        line = fold(line)  # (a line holds no newline; 5x faster than a regex substitution)
        if line:
            current.append(line)
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    if current:
        paragraphs.append("\n".join(current))
    return paragraphs


def _header_line(line: str) -> tuple[str, str, str | None, bool] | None:
    """One header line -> (key, value, inline title, strong) or None.

    "strong" lines prove that a header block is there: a known key with a colon,
    or a bare `date`/`url`/`language` whose value has the right shape.
    """
    m = _COLON_HEADER.match(line)
    if m and not m.group(2).startswith("//"):  # "http://x" is not a header "http"
        key, value = m.group(1).lower(), m.group(2)
        if key == "date" and (split := split_leading_date(value)) and split[1]:
            return key, split[0], split[1], True
        return key, value, None, key in KNOWN_KEYS
    m = _BARE_HEADER.match(line)
    if not m:
        return None
    key, value = m.group(1).lower(), m.group(2)
    if key == "date":
        split = split_leading_date(value)
        if not split:
            return None
        return key, split[0], split[1] or None, True
    if key == "url":
        return (key, value, None, True) if _URL.match(value) else None
    if key == "language":
        return (key, value, None, True) if _LANG.match(value) else None
    return key, value, None, False


def parse_text(text: str) -> dict:
    lines = text.split("\n")
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    block: list[tuple[str, str, str | None, bool]] = []
    j = i
    while j < len(lines) and lines[j].strip():
        header = _header_line(lines[j])
        if header is None:
            break
        block.append(header)
        j += 1
        if header[2]:  # an inline title ends the header block
            break
    headers: dict[str, str] = {}
    warnings: list[str] = []
    inline_title = None
    fmt = "plain"
    if block and any(strong for *_, strong in block):
        for key, value, inline, _ in block:
            if key in headers:
                warnings.append(f"header {key!r} repeated: kept the first value")
                continue
            headers[key] = value
            inline_title = inline_title or inline
        fmt = "inline_header" if inline_title else "header_block"
        i = j
    title = headers.pop("title", None)
    if inline_title:
        title = title or inline_title
    if not title:
        while i < len(lines) and not lines[i].strip():
            i += 1
        title = lines[i] if i < len(lines) else ""
        i += 1
    return {
        "format": fmt,
        "title": title,
        "headers": headers,
        "paragraphs": paragraphs_of(lines[i:]),
        "warnings": warnings,
    }


def has_html_tags(text: str) -> bool:
    """True when `text` holds markup of a known HTML element (not any angle-bracketed text)."""
    return bool(_HTML_TAG.search(text))
