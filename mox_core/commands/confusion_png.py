"""A confusion matrix as a PNG: drawn with matplotlib when it is installed, else with Pillow
(a mox-core dependency). Readable from 2 classes to about 100.

Rows are the true classes, columns the predicted ones; a cell's colour is its share of the row
(the true class's samples), so a small class's mistakes show as clearly as a large one's. Cells
show their counts when there is room.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np

#: the longest class name drawn whole; longer ones are cut, ending in "..."
NAME_CHARS = 24
#: the colours of a cell holding none and all of its row's samples (matplotlib's "Blues")
EMPTY, FULL = (247, 251, 255), (8, 48, 107)


def confusion_png(matrix: np.ndarray, names: Sequence[str], title: str) -> bytes:
    """The PNG of ``matrix`` (``[true, predicted]`` counts) with class ``names``."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return pillow_png(matrix, names, title)
    return matplotlib_png(matrix, names, title)


def _shares(matrix: np.ndarray) -> np.ndarray:
    """Each cell's share of its row; 0 in a row without samples."""
    rows = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 3] + "..."


def matplotlib_png(matrix: np.ndarray, names: Sequence[str], title: str) -> bytes:
    # The object API, not pyplot: no global backend or figure state is touched.
    from matplotlib.figure import Figure

    k = len(names)
    side = min(max(4.0 + 0.2 * k, 6.0), 28.0)
    font = max(4.0, min(10.0, 0.45 * 72 * side / k))  # points: about half of a cell
    figure = Figure(figsize=(side + 1.5, side), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(_shares(matrix), cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, shrink=0.8, label="share of the true class's samples")
    ticks = range(k)
    short = [_short(name) for name in names]
    axes.set_xticks(ticks, short, rotation=90, fontsize=font)
    axes.set_yticks(ticks, short, fontsize=font)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title, fontsize=9, wrap=True)
    if k <= 20:
        shares = _shares(matrix)
        for (i, j), count in np.ndenumerate(matrix):
            axes.text(j, i, str(count), ha="center", va="center", fontsize=font,
                      color="white" if shares[i, j] > 0.5 else "black")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType: scalable
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()  # a fixed bitmap font


def _text_size(font, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return right - left, bottom - top


def _put(draw, x: float, y: float, text: str, font, fill, end: bool = False) -> None:
    """``text`` centred on ``(x, y)``, or ending at ``x`` with ``end`` (without anchors, which
    bitmap fonts lack)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    across = x - (right - left) - left if end else x - (right - left) / 2 - left
    draw.text((across, y - (bottom - top) / 2 - top), text, fill=fill, font=font)


def _colour(share: float) -> tuple[int, int, int]:
    return tuple(round(e + (f - e) * share) for e, f in zip(EMPTY, FULL))


def pillow_png(matrix: np.ndarray, names: Sequence[str], title: str) -> bytes:
    from PIL import Image, ImageDraw

    k = len(names)
    cell = max(12, min(48, 720 // k))
    font = _font(max(9, min(14, cell - 3)))
    short = [_short(name) for name in names]
    label_width = max(_text_size(font, name)[0] for name in short) + 8
    line = _text_size(font, "Ag")[1] + 6
    margin = 12
    shares = _shares(matrix)
    counts = [str(int(n)) for n in matrix.ravel()]
    show_counts = max(_text_size(font, c)[0] for c in counts) <= cell - 4 and cell >= 20

    x0 = margin + line + label_width  # the matrix's top left corner
    y0 = margin + 3 * line
    grid = k * cell
    note = "colour: share of the true class's samples (white: none, dark blue: all)"
    width = max(x0 + grid, *(margin + _text_size(font, text)[0] for text in (title, note)))
    width += margin
    height = y0 + grid + 4 + label_width + line + margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((margin, margin), title, fill="black", font=font)
    draw.text((margin, margin + line), note, fill=(90, 90, 90), font=font)

    for i in range(k):
        top = y0 + i * cell
        _put(draw, x0 - 4, top + cell / 2, short[i], font, "black", end=True)
        for j in range(k):
            left = x0 + j * cell
            draw.rectangle([left, top, left + cell - 1, top + cell - 1],
                           fill=_colour(shares[i, j]),
                           outline=(225, 225, 225) if cell >= 20 else None)
            if show_counts:
                _put(draw, left + cell / 2, top + cell / 2, str(int(matrix[i, j])), font,
                     "white" if shares[i, j] > 0.5 else "black")

    # Predicted classes under the columns, read upwards: drawn as rows, then turned.
    strip = Image.new("RGB", (label_width, grid), "white")
    strip_draw = ImageDraw.Draw(strip)
    for j, name in enumerate(short):
        _put(strip_draw, label_width - 4, j * cell + cell / 2, name, font, "black", end=True)
    image.paste(strip.rotate(90, expand=True), (x0, y0 + grid + 4))
    _put(draw, x0 + grid / 2, y0 + grid + 4 + label_width + line / 2, "predicted class", font,
         "black")
    caption = Image.new("RGB", (grid, line), "white")
    _put(ImageDraw.Draw(caption), grid / 2, line / 2, "true class", font, "black")
    image.paste(caption.rotate(90, expand=True), (margin, y0))

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
