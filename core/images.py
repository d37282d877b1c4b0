"""Pictures a salon uploads (its logo, its cover, its staff's photos), made fit to serve:
read with Pillow, turned upright, scaled down to the size the pages show them at, and
stored as WebP (no metadata kept: a phone's photo carries where it was taken).

A file Pillow cannot read is refused as a validation error, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePath
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Decompression bombs: a few kilobytes that unpack to gigabytes of pixels.
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class Fit:
    """How one kind of picture is served: at most `width` pixels wide (and `height` high
    when given); `square` crops it to its centre first (a logo, a face)."""

    width: int
    height: int | None = None
    square: bool = False


LOGO = Fit(256, 256, square=True)
COVER = Fit(1600, 900)
PORTRAIT = Fit(400, 400, square=True)


def image_fit(upload: File[Any] | IO[bytes], *, fit: Fit, name: str) -> ContentFile[bytes]:
    """`upload` as a WebP file of at most `fit`'s size, named `<name>.webp`."""
    try:
        upload.seek(0)
        with Image.open(upload) as source:
            if source.width * source.height > MAX_PIXELS:
                raise ValidationError(_("This picture is too large."), code="too_large")
            source.load()
            picture = ImageOps.exif_transpose(source)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("This file is not a picture we can read."), code="invalid") from exc
    picture = picture.convert("RGBA" if picture.mode in {"RGBA", "LA", "P"} else "RGB")
    if fit.square:
        side = min(picture.size)
        picture = ImageOps.fit(picture, (side, side))
    picture.thumbnail((fit.width, fit.height or fit.width * 10), Image.Resampling.LANCZOS)
    out = BytesIO()
    picture.save(out, format="WEBP", quality=82, method=4)
    return ContentFile(out.getvalue(), name=f"{PurePath(name).stem}.webp")


def picture_prepared(value: Any, *, fit: Fit, name: str) -> Any:
    """What a model's picture field is set to: a new upload fitted (`image_fit`); the
    picture it already has, as it is; nothing (cleared) as an empty name."""
    if not value:  # None, "", False (the admin's "clear"), a field file without a name
        return ""
    if getattr(value, "_committed", False):
        return value  # stored already: unchanged
    upload = getattr(value, "file", value)
    return image_fit(upload, fit=fit, name=name)


def drawn_upload(picture: Image.Image, name: str) -> SimpleUploadedFile:
    """A picture drawn in code (the demo salon's), as if uploaded: a PNG file."""
    out = BytesIO()
    picture.save(out, format="PNG")
    return SimpleUploadedFile(f"{name}.png", out.getvalue(), content_type="image/png")
