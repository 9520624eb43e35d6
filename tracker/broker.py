"""The embedded broker: kombu's filesystem transport, with each message written whole before it can be read.

kombu's own `_put` creates the message file under its final name and then writes into it; a worker listing the
folder in between moves the empty file away, fails to decode it and stops. Here the message is written to a
hidden file in the same folder and renamed into place, which is atomic on one filesystem: a reader sees no file
or the whole message, never part of one."""
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        # A leading dot: `_get` reads only names whose part after the first dot is "<queue>.msg".
        partial = os.path.join(folder, f".{name}.part")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(folder, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
