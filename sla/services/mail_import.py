"""Filing mail from files: `.eml` files, folders of them, Maildir folders and mbox files, through `mail_receive`.

What an administrator brings from an old mailbox (or a bench builds) is filed exactly as polled mail is: each
message once (a second import of the same files changes nothing), each with its outcome.
"""

import mailbox as mailboxes
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from tracker.errors import NotFound, ValidationFailed

from ..models import Mailbox
from .mail_intake import mail_receive


def _is_maildir(path: Path) -> bool:
    return all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _is_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


def _delivery_order(key: str) -> list:
    """A Maildir key ("1765098902.M712P4242Q7.host") by its numbers: the order the messages were delivered in."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def mail_messages(paths: Iterable[str | Path]) -> Iterator[bytes]:
    """The raw messages under `paths`, in a stable order: a Maildir's, an mbox file's, a folder's `.eml` files
    (and Maildirs and mbox files inside it), or one `.eml` file. A path that is none of these is refused."""
    for path in map(Path, paths):
        if not path.exists():
            raise NotFound(f"{path} does not exist.")
        if path.is_dir() and _is_maildir(path):
            box = mailboxes.Maildir(path, factory=None, create=False)
            for key in sorted(box.iterkeys(), key=_delivery_order):
                yield box.get_bytes(key)
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_dir() or child.suffix.lower() in (".eml", ".mbox") or child.name == "mbox":
                    yield from mail_messages([child])
        elif path.suffix.lower() == ".eml":
            yield path.read_bytes()
        elif _is_mbox(path):
            box = mailboxes.mbox(path, factory=None, create=False)
            for key in box.iterkeys():
                yield box.get_bytes(key)
        else:
            raise ValidationFailed(f"{path} is not a .eml file, a Maildir or an mbox file.")


def mailbox_for(address: str | None) -> Mailbox | None:
    """The intake mailbox mail is filed as having reached; None without an address."""
    if not address:
        return None
    found = Mailbox.objects.filter(address__iexact=address).first()
    if found is None:
        known = ", ".join(Mailbox.objects.values_list("address", flat=True)) or "none yet"
        raise NotFound(f"No intake mailbox has the address {address}; known: {known}.")
    return found


def mail_import(*, paths: Iterable[str | Path], mailbox: Mailbox | None = None) -> Counter:
    """File every message under `paths` (one transaction each, through `mail_receive`); a count per outcome."""
    counts: Counter = Counter()
    for raw in mail_messages(paths):
        counts[mail_receive(raw, mailbox=mailbox).outcome] += 1
    return counts
