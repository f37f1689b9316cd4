"""Draw Teams cards with Microsoft's own Adaptive Cards renderer (the npm package `adaptivecards`) in the
system's Chromium, as Teams' light theme shows them in a 450 px chat column.

Used by `make screenshots` and by the tests that assert on what a person sees: the lines of text on
screen (wrapped lines included, hidden parts left out), the colour, background and weight of each text,
and the buttons. Nothing is downloaded: the browser is the distribution's (`/usr/bin/chromium`, or
`CHROMIUM`), driven by Playwright without its own browser builds.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent / "cards"
PAGE = HERE / "page.html"
HOST_CONFIG = HERE / "teams-light.json"
RENDERER = HERE / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"
WIDTH = 450
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system's Chromium: `CHROMIUM` if set, else /usr/bin/chromium (Debian's package)."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def missing() -> str | None:
    """Why cards cannot be drawn here, or None when everything is in place."""
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make test installs it with the dev tools)"
    if not RENDERER.is_file():
        return "the npm package adaptivecards is not installed (npm ci --prefix tools/cards)"
    return None


@dataclass(frozen=True)
class Text:
    text: str
    color: tuple[float, float, float, float]  # r, g, b in 0..255, alpha in 0..1
    background: tuple[float, float, float, float]
    weight: int
    size: float

    def contrast(self) -> float:
        """The WCAG 2 contrast ratio of this text against what it is drawn on."""
        bg = self.background[:3]
        fg = blend(self.color, bg)
        return contrast_ratio(fg, bg)


@dataclass(frozen=True)
class Drawn:
    lines: list[str]  # the text on screen, one entry per line, top to bottom
    texts: list[Text]
    buttons: list[str]
    height: int

    def line_with(self, needle: str) -> str:
        found = [ln for ln in self.lines if needle in ln]
        assert found, f"{needle!r} is on no line; the lines are:\n" + "\n".join(self.lines)
        return found[0]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class CardRenderer:
    """One headless Chromium page with the renderer loaded; draw cards into it one after another."""

    def __init__(self, host_config: Path = HOST_CONFIG) -> None:
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        self.host_config = json.loads(host_config.read_text(encoding="utf-8"))
        self._pw: Any = None
        self._browser: Any = None
        self.page: Any = None

    def __enter__(self) -> CardRenderer:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=chromium_path(), args=LAUNCH_ARGS)
        self.page = self._browser.new_page(viewport={"width": WIDTH + 40, "height": 800}, device_scale_factor=1)
        self.page.route(re.compile(r"^https?://"), lambda route: route.abort())  # nothing leaves the machine
        self.page.goto(PAGE.as_uri())
        self.page.wait_for_function("() => window.AdaptiveCards && window.renderCard")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()

    def draw(self, card: dict[str, Any], png: Path | None = None) -> Drawn:
        """Draw `card` (its JSON as the bot sends it) and read back what is on screen."""
        self.page.evaluate("([card, host]) => window.renderCard(card, host)", [card, self.host_config])
        return self.read(png)

    def click(self, title: str, png: Path | None = None) -> Drawn:
        """Press the card's visible button `title` (e.g. "Show all") and read the card again."""
        if not self.page.evaluate("(t) => window.clickButton(t)", title):
            raise AssertionError(f"no visible button {title!r}; there are {self.page.evaluate('window.buttons()')}")
        return self.read(png)

    def read(self, png: Path | None = None) -> Drawn:
        frame = self.page.locator("#frame")
        box = frame.bounding_box() or {"height": 0}
        if png is not None:
            png.parent.mkdir(parents=True, exist_ok=True)
            frame.screenshot(path=str(png))
        texts = [
            Text(t["text"], parse_colour(t["color"]), parse_colour(t["background"]), int(t["weight"]), _px(t["size"]))
            for t in self.page.evaluate("window.textStyles()")
        ]
        return Drawn(
            lines=list(self.page.evaluate("window.visualLines()")),
            texts=texts,
            buttons=list(self.page.evaluate("window.buttons()")),
            height=int(box["height"]),
        )


def _px(value: str) -> float:
    return float(value.removesuffix("px") or 0)


def parse_colour(css: str) -> tuple[float, float, float, float]:
    """`rgb(r, g, b)` or `rgba(r, g, b, a)` (as the browser computes colours) or `#rrggbb` / `#aarrggbb`."""
    css = css.strip()
    if css.startswith("#"):
        h = css[1:]
        alpha = 1.0
        if len(h) == 8:  # Adaptive Cards write the alpha first
            alpha, h = int(h[:2], 16) / 255, h[2:]
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha)
    nums = [float(x) for x in re.findall(r"[\d.]+", css)]
    return (nums[0], nums[1], nums[2], nums[3] if len(nums) > 3 else 1.0)


def blend(fg: tuple[float, float, float, float], bg: tuple[float, ...]) -> tuple[float, float, float]:
    a = fg[3]
    return (fg[0] * a + bg[0] * (1 - a), fg[1] * a + bg[1] * (1 - a), fg[2] * a + bg[2] * (1 - a))


def luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
