"""Reading a raw mail: its headers, its text, its files, and the new part of a reply. No database here.

Everything is read with the stdlib `email` package (`policy.default`: RFC 2047 subjects and names, RFC 2231 file
names). A text part is decoded by its declared charset, then as UTF-8, then as windows-1252, then as latin-1
(which maps every byte), so a wrong or unknown label loses nothing that can be kept. HTML-only mail is
sanitised with `nh3` and turned into Markdown text with `html2text`; an inline `cid:` image becomes
"[image: name]".

A reply is cut to what its sender wrote: `mail-parser-reply` first, then our own rules for what it misses
(Gmail's "On ... wrote:", Outlook's "From: ... Sent: ..." block and "-----Original Message-----", a trailing
`> ` quote, a "-- " signature, "Sent from my iPhone"). A first message keeps its whole body, forwarded content
included; only its sender's signature goes.
"""

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr

import html2text
import nh3
from mailparser_reply import EmailReplyParser

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]

# Where a forwarded message starts (Gmail, Apple Mail, Outlook, Thunderbird): the forwarder's own text ends there.
FORWARD_MARK = re.compile(
    r"^\s*(-{5,}\s*Forwarded message\s*-{5,}|Begin forwarded message:|-{5,}\s*Original Message\s*-{5,}"
    r"|-------- Forwarded Message --------)\s*$", re.I | re.M)
# Where quoted history starts in a reply. Gmail may wrap "On ... wrote:" over two lines.
QUOTE_HEADERS = [
    re.compile(r"^On\b[^\n]{0,200}(\n[^\n]{0,200})?\bwrote:\s*$", re.M),
    re.compile(r"^Am\b[^\n]{0,200}(\n[^\n]{0,200})?\bschrieb[^\n]*:\s*$", re.M),
    re.compile(r"^Le\b[^\n]{0,200}(\n[^\n]{0,200})?\ba écrit\s*:\s*$", re.M),
    re.compile(r"^-{3,}\s*Original Message\s*-{3,}\s*$", re.I | re.M),
    re.compile(r"^_{10,}\s*\n\s*From:", re.M),
    re.compile(r"^\*?From:\*?\s[^\n]+\n(\*?(To|Cc|Date):\*?\s[^\n]*\n)*\*?(Sent|Date):\*?\s", re.M),
    re.compile(r"^\s*(-{5,}\s*Forwarded message\s*-{5,}|Begin forwarded message:)", re.I | re.M),
]
SIGNATURE = re.compile(r"^-- ?$", re.M)
SENT_FROM = re.compile(r"^\s*(Sent from my \w[^\n]{0,40}|Sent from (Mail|Outlook) for \w+|Get Outlook for \w+"
                       r"|Von meinem \w+ gesendet|Envoyé de mon \w+)\s*$", re.I | re.M)
_CID_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?cid:([^\"'\s>]+)[^>]*>", re.I)


@dataclass
class MailFile:
    """A file that came with a mail."""

    name: str
    content_type: str
    data: bytes
    content_id: str = ""


@dataclass
class MailContent:
    """What a mail says: its text (Markdown for HTML mail) and its files."""

    text: str
    files: list[MailFile] = field(default_factory=list)


def parse_headers(raw: bytes) -> EmailMessage:
    """The headers only: cheap, for the key and the filters, before the body is read."""
    return BytesHeaderParser(policy=email.policy.default).parsebytes(raw)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def header(msg: EmailMessage, name: str) -> str:
    """A header as text (RFC 2047 decoded), "" when absent; a header too broken to decode is read as it came."""
    try:
        value = msg.get(name)
    except Exception:  # the header parser gave up on it: fall back to its raw value
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "")
    return " ".join(str(value or "").split())


def headers(msg: EmailMessage, name: str) -> list[str]:
    """Every occurrence of a header, top (the latest added) first."""
    return [" ".join(str(v).split()) for k, v in msg.raw_items() if k.lower() == name.lower()]


def sender(msg: EmailMessage) -> tuple[str, str]:
    """(display name, lower-cased address) of the From header; ("", "") without a usable address."""
    value = header(msg, "From")
    pairs = getaddresses([value]) if value else []
    name, address = pairs[0] if pairs else parseaddr(value)
    address = address.strip().lower()
    if "@" not in address:
        return name.strip(), ""
    return name.strip(), address


def address_of(value: str) -> str:
    return parseaddr(value or "")[1].strip().lower()


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


# --- text -------------------------------------------------------------------------------------------

def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes of a text part as text: the declared charset, else UTF-8, else windows-1252, else latin-1 (never
    fails)."""
    tried = []
    label = (charset or "").strip().strip('"').lower()
    if label in ("", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"):
        # Mislabelled windows-1252 (curly quotes, the euro sign) is the commonest wrong label of all.
        tried = ["utf-8", "windows-1252"] if label in ("", "us-ascii", "ascii") else ["windows-1252"]
    else:
        tried = [label, "utf-8", "windows-1252"]
    for codec in tried:
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # maps every byte: nothing is lost, at worst shown as the wrong letter


def _payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    return str(part.get_payload() or "").encode("utf-8", "replace")


def part_text(part: EmailMessage) -> str:
    return decode_text(_payload(part), part.get_content_charset())


def html_to_text(html: str, names: dict[str, str] | None = None) -> str:
    """Sanitised HTML as Markdown text; `<img src="cid:x">` becomes "[image: name]" (`names`: cid -> name)."""
    names = names or {}

    def image(found: re.Match) -> str:
        cid = found.group(1).strip("<>")
        return f" [image: {names.get(cid.lower(), cid)}] "

    html = _CID_IMG.sub(image, html)
    clean = nh3.clean(html, tags=nh3.ALLOWED_TAGS - {"img"})
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True
    text = re.sub(r"[ \t]+\n", "\n", converter.handle(clean))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _walk(msg: EmailMessage):
    """Every leaf part, not descending into an attached message (it is a file of its own)."""
    if msg.get_content_maintype() == "multipart":
        for part in msg.iter_parts():
            yield from _walk(part)
    else:
        yield msg


def _file_name(part: EmailMessage, n: int) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # a broken RFC 2231 parameter
        name = ""
    name = " ".join(str(name).split())
    if not name and part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        subject = header(inner, "Subject") if isinstance(inner, EmailMessage) else ""
        name = f"{subject or 'message'}.eml"
    if not name:
        ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif"}.get(part.get_content_type(), "bin")
        name = f"part-{n}.{ext}"
    return name


def read_content(msg: EmailMessage) -> MailContent:
    """The text to file (text/plain preferred, else converted HTML) and every file: parts marked attachment,
    inline parts with a name, inline images with a Content-ID, attached messages."""
    body = msg.get_body(preferencelist=("plain", "html"))
    files: list[MailFile] = []
    names: dict[str, str] = {}
    for n, part in enumerate(_walk(msg), start=1):
        if part is body:
            continue
        disposition = part.get_content_disposition()
        content_id = header(part, "Content-ID").strip("<> ")
        ctype = part.get_content_type()
        has_name = bool(part.get_param("name") or part.get_param("filename", header="content-disposition"))
        is_file = (disposition == "attachment" or (has_name and disposition in (None, "inline"))
                   or (content_id and part.get_content_maintype() == "image") or ctype == "message/rfc822")
        if not is_file:
            continue
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if isinstance(inner, EmailMessage) else _payload(part)
        else:
            data = _payload(part)
        name = _file_name(part, n)
        if content_id:
            names[content_id.lower()] = name
        files.append(MailFile(name=name, content_type=ctype, data=data, content_id=content_id))
    text = ""
    if body is not None:
        text = part_text(body)
        if body.get_content_subtype() == "html":
            text = html_to_text(text, names)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return MailContent(text=text.strip(), files=files)


# --- what the sender wrote --------------------------------------------------------------------------

def strip_signature(text: str) -> str:
    """The text without its sender's signature ("-- " to the end, or to a forwarded message) or "Sent from my
    iPhone"; a forwarded message below is kept whole (its own signature too)."""
    mark = FORWARD_MARK.search(text)
    own, rest = (text[:mark.start()], text[mark.start():]) if mark else (text, "")
    found = SIGNATURE.search(own)
    if found:
        own = own[:found.start()]
    own = SENT_FROM.sub("", own)
    return (own.rstrip() + ("\n\n" + rest.strip() if rest else "")).strip()


def _cut_trailing_quote(text: str) -> str:
    """Drop a `>` quote that runs to the end (a bottom-posted history); an inline answer keeps its quotes."""
    lines = text.split("\n")
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start < end and start > 0:
        return "\n".join(lines[:start])
    return text


def trim_reply(text: str) -> str:
    """What a reply's sender wrote above the quoted history, without a signature."""
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
        first = replies[0].body if replies else text
    except Exception:  # the library's own patterns failing on odd input: our rules below still apply
        first = text
    first = first or text
    cut = len(first)
    for pattern in QUOTE_HEADERS:
        found = pattern.search(first)
        if found and found.start() < cut:
            cut = found.start()
    first = first[:cut]
    first = _cut_trailing_quote(first)
    found = SIGNATURE.search(first)
    if found:
        first = first[:found.start()]
    first = SENT_FROM.sub("", first)
    return first.strip()
