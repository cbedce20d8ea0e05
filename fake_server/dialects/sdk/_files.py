"""The ``files`` namespace: ``uploadFileBase64`` (``prepare_image``), which gives a file a
handle that chat messages then refer to. The fake keeps no file: a prediction reads only
the text of a message, as every door's ``contains=`` matching does."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from ._protocol import Request, SdkError
from ._shapes import error

__all__ = ["file_type", "upload_file_base64"]

_TYPES = {
    "image": ("png", "jpg", "jpeg", "gif", "webp", "bmp"),
    "text/plain": ("txt", "md", "csv", "json"),
    "application/pdf": ("pdf",),
    "application/word": ("doc", "docx"),
}


def file_type(name: str) -> str:
    """LM Studio's ``fileType`` from a file's extension."""
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    for kind, extensions in _TYPES.items():
        if extension in extensions:
            return kind
    return "text/other" if extension else "unknown"


async def upload_file_base64(request: Request) -> Any:
    """A handle for the uploaded file: an identifier drawn from its name and content (the
    real server's is a timestamp and a number), its type and its size."""
    name = request.parameter["name"]
    try:
        content = base64.b64decode(request.parameter["contentBase64"], validate=True)
    except (binascii.Error, ValueError):
        raise SdkError(
            error(
                f"contentBase64 of {name!r} is not base64",
                suggestion="Send the file's bytes encoded with standard base64.",
            ),
            400,
        ) from None
    digest = hashlib.blake2b(
        content, digest_size=6, key=name.encode("utf-8", "surrogatepass")[:64]
    ).hexdigest()
    extension = name.rpartition(".")[2] if "." in name else "bin"
    return {
        "identifier": f"{int(digest, 16) % 10**13} - {len(content)}.{extension}",
        "fileType": file_type(name),
        "sizeBytes": len(content),
    }
