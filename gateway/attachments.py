"""Images a customer sends in the chat: checked, re-encoded and kept outside the web root.

A file is accepted only when its first bytes say PNG, JPEG or WebP (the name and the declared
type are ignored), it is at most :data:`MAX_BYTES`, Pillow decodes all of it as that same format
and it has at most :data:`MAX_PIXELS` pixels (no decompression bombs). It is then re-encoded
(which drops metadata such as a phone's GPS position and anything appended to the image), scaled
down to :data:`MAX_SIDE` pixels on the long side, and written under a random name in
``<var>/attachments`` with owner-only permissions.
"""

from __future__ import annotations

import io
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from crm.repo.attachments import StoredFile

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
#: content type -> (Pillow format, file extension)
FORMATS = {"image/png": ("PNG", "png"), "image/jpeg": ("JPEG", "jpg"), "image/webp": ("WEBP", "webp")}


class AttachmentError(ValueError):
    """A refused upload, with the HTTP status and a stable code for the widget."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def sniff(data: bytes) -> str | None:
    """The content type the file's magic bytes announce (PNG, JPEG, WebP), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class CheckedImage:
    content_type: str
    data: bytes
    width: int
    height: int


def check_image(data: bytes) -> CheckedImage:
    """Decode, verify and re-encode an uploaded image, or raise :class:`AttachmentError`."""
    if not data:
        raise AttachmentError(400, "empty_file", "The file is empty.")
    if len(data) > MAX_BYTES:
        raise AttachmentError(413, "too_large", f"Images may be at most {MAX_BYTES // (1024 * 1024)} MB.")
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentError(415, "unsupported_type", "Only PNG, JPEG and WebP images are accepted.")
    pil_format, _ = FORMATS[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data), formats=[pil_format])
            if opened.width * opened.height > MAX_PIXELS:
                raise AttachmentError(413, "too_many_pixels", "The image has too many pixels.")
            opened.load()
    except AttachmentError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise AttachmentError(422, "malformed_image", "The image could not be read.") from exc
    image: Image.Image = ImageOps.exif_transpose(opened) or opened
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    if pil_format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    image.save(out, format=pil_format, **({"quality": 85} if pil_format != "PNG" else {}))
    return CheckedImage(content_type, out.getvalue(), image.width, image.height)


def attachments_dir(var_dir: Path) -> Path:
    folder = var_dir / "attachments"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def store(var_dir: Path, image: CheckedImage) -> StoredFile:
    """Write the re-encoded image under a fresh random name (atomically, owner-only)."""
    _, extension = FORMATS[image.content_type]
    name = f"{secrets.token_hex(16)}.{extension}"
    folder = attachments_dir(var_dir)
    partial = folder / f".{name}.part"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(image.data)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(folder / name)
    return {
        "storage_name": name,
        "content_type": image.content_type,
        "size": len(image.data),
        "width": image.width,
        "height": image.height,
    }


def read(var_dir: Path, storage_name: str) -> bytes:
    """The stored bytes; the name comes from the CRM row, never from the request."""
    path = attachments_dir(var_dir) / Path(storage_name).name
    return path.read_bytes()


def remove(var_dir: Path, storage_name: str) -> None:
    (attachments_dir(var_dir) / Path(storage_name).name).unlink(missing_ok=True)
