"""Screenshots in the chat: checked by content, stored under random names, never executed.

The type comes from the file's first bytes, not from its name or the browser's claim, so
an HTML or SVG file renamed ``.png`` is refused and nothing uploaded can run script in the
console's origin.  Files live in ``<instance>/chat_uploads`` under 128-bit random names;
the database row says which conversation may see them.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from console.chat.models import Attachment, Conversation
from console.chat.service import ChatError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_FOLDER = "chat_uploads"

# (content type, extension) by leading bytes
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PNG, JPEG, GIF or WebP file, else None."""
    for magic, content_type, extension in _SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def upload_folder(instance_path: str | Path) -> Path:
    folder = Path(instance_path) / UPLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_upload(session: Session, conversation: Conversation, stream, uploaded_by: str,
                instance_path: str | Path) -> Attachment:
    """Read at most the limit (plus one byte to notice more), check, store, record."""
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ChatError(413, "file_too_large",
                        _("Screenshots are limited to %(mb)s MB.",
                          mb=MAX_UPLOAD_BYTES // (1024 * 1024)), limit=MAX_UPLOAD_BYTES)
    if not data:
        raise ChatError(400, "empty_file", _("The file is empty."))
    kind = sniff_image(data[:16])
    if kind is None:
        raise ChatError(415, "unsupported_file",
                        _("Only PNG, JPEG, GIF or WebP screenshots can be sent."))
    content_type, extension = kind
    name = f"{secrets.token_hex(16)}.{extension}"
    path = upload_folder(instance_path) / name
    path.write_bytes(data)
    path.chmod(0o600)
    attachment = Attachment(conversation_id=conversation.id, stored_name=name,
                            content_type=content_type, size=len(data), uploaded_by=uploaded_by)
    session.add(attachment)
    session.commit()
    return attachment


def attachment_path(instance_path: str | Path, attachment: Attachment) -> Path:
    return upload_folder(instance_path) / attachment.stored_name
