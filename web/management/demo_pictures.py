"""The demo salon's pictures, drawn at seed time (nothing downloaded): a soft gradient
cover, a monogram logo, and a portrait for each of its staff (their initial on a colour).
They go through the same resizing as an owner's upload."""

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from core.images import drawn_upload as _png

Colour = tuple[int, int, int]


def _gradient(size: tuple[int, int], start: Colour, end: Colour) -> Image.Image:
    """A diagonal blend from `start` (top left) to `end` (bottom right)."""
    down = Image.linear_gradient("L").resize(size)
    across = Image.linear_gradient("L").rotate(90).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    ramp = ImageChops.add(down, across.resize(size), scale=2)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), ramp)


def cover(*, width: int = 1800, height: int = 800) -> SimpleUploadedFile:
    """Warm plum to peach, with a few large blurred circles for depth."""
    picture = _gradient((width, height), (92, 42, 84), (236, 160, 128))
    glow = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(glow)
    for x, y, r, light in ((0.78, 0.3, 0.32, 90), (0.18, 0.85, 0.25, 60), (0.5, 0.05, 0.18, 50)):
        cx, cy, radius = x * width, y * height, r * width
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=light)
    glow = glow.filter(ImageFilter.GaussianBlur(width // 30))
    picture = Image.composite(Image.new("RGB", (width, height), (255, 236, 220)), picture, glow)
    return _png(picture, "cover")


def monogram(
    letters: str, *, background: Colour, ink: Colour = (255, 255, 255), size: int = 512
) -> Image.Image:
    """`letters` centred on a disc of `background`, on white."""
    picture = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((0, 0, size - 1, size - 1), fill=background)
    font = ImageFont.load_default(size=int(size * (0.42 if len(letters) > 1 else 0.5)))
    draw.text((size / 2, size / 2), letters, fill=ink, font=font, anchor="mm")
    return picture


def logo(letters: str) -> SimpleUploadedFile:
    return _png(monogram(letters, background=(92, 42, 84)), "logo")


PORTRAIT_COLOURS: tuple[Colour, ...] = ((11, 83, 148), (30, 107, 47), (122, 74, 0), (92, 42, 84))


def portrait(name: str, n: int) -> SimpleUploadedFile:
    background = PORTRAIT_COLOURS[n % len(PORTRAIT_COLOURS)]
    return _png(monogram(name[:1].upper(), background=background), "staff")
