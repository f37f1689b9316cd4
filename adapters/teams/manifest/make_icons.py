"""Draw the app package's two icons (run once; the PNGs are committed): `python make_icons.py`.

color.png: 192×192, full colour. outline.png: 32×32, white on transparent (Teams' rule).
Needs Pillow (a development dependency only).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (47, 93, 138, 255)


def tray(draw: ImageDraw.ImageDraw, scale: float, colour: tuple[int, int, int, int], width: int) -> None:
    """An in-tray with a check mark: requests come in and get an answer."""

    def s(*xy: float) -> list[float]:
        return [v * scale for v in xy]

    draw.line(s(4, 18, 9, 18, 11, 22, 21, 22, 23, 18, 28, 18), fill=colour, width=width, joint="curve")
    draw.line(s(4, 18, 4, 28, 28, 28, 28, 18), fill=colour, width=width, joint="curve")
    draw.line(s(10, 9, 14.5, 13.5, 22, 5), fill=colour, width=width, joint="curve")


def main() -> None:
    color = Image.new("RGBA", (192, 192), ACCENT)
    tray(ImageDraw.Draw(color), 6.0, (255, 255, 255, 255), 12)
    color.save(HERE / "color.png")
    outline = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    tray(ImageDraw.Draw(outline), 1.0, (255, 255, 255, 255), 2)
    outline.save(HERE / "outline.png")


if __name__ == "__main__":
    main()
