"""The theme's few icons as a small stylesheet of SVG masks, in place of the 1.5 MB Font Awesome script.

pydata-sphinx-theme loads ``fontawesome.js`` on every page (it swaps each ``<i class="fa-…">`` for an
inline SVG) and its stylesheet also declares the Font Awesome web fonts, which a page downloads as soon as
it draws one glyph (the toggle buttons, the dark-mode switch, search, admonition titles). The book drops
the script (``brbook.sphinx_ext``) and draws the same icons from this stylesheet: every rule of the theme's
stylesheets whose ``content`` is a Font Awesome glyph (directly or through a ``--pst-icon-…`` variable)
gets the glyph's own path, read from the installed ``fontawesome.js``, as a CSS mask in the text colour.
The ``fa-<name>`` classes covered are those the theme's templates and Python code name, so a theme upgrade
that adds an icon adds its rule. Nothing is downloaded: the paths come from the installed theme.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

FILENAME = "brbook-icons.css"
_ICON = re.compile(r'(?:"([a-z0-9-]+)"|([a-zA-Z0-9_$]+)):\[(\d+),(\d+),\[([^\]]*)\],"([0-9a-f]+)","([^"]+)"\]')
_PACK_END = re.compile(r'\(function\(\)\{[a-zA-Z_$]+\("(fa[a-z])",')
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_VARIABLE = re.compile(r"(--pst-icon-[a-z0-9-]+):\s*([^;}]+)")
_CONTENT = re.compile(r"(?:^|;)\s*content:\s*([^;]+)")


def _themes() -> list[Path]:
    import pydata_sphinx_theme
    import sphinx_book_theme

    return [Path(pydata_sphinx_theme.__file__).parent, Path(sphinx_book_theme.__file__).parent]


@lru_cache(maxsize=1)
def solid_icons() -> dict[str, tuple[int, int, str, str]]:
    """Font Awesome's solid icons from the installed ``fontawesome.js``: name or alias -> (width, height,
    codepoint, SVG path)."""
    script = next(_themes()[0].rglob("static/scripts/fontawesome.js")).read_text(encoding="utf-8")
    packs = list(_PACK_END.finditer(script))
    solid = next(i for i, m in enumerate(packs) if m.group(1) == "fas")
    start = packs[solid - 1].end() if solid else 0
    icons: dict[str, tuple[int, int, str, str]] = {}
    for m in _ICON.finditer(script, start, packs[solid].start()):
        icon = (int(m.group(3)), int(m.group(4)), m.group(6), m.group(7))
        icons[m.group(1) or m.group(2)] = icon
        for alias in re.findall(r'"([a-z0-9-]+)"', m.group(5)):
            icons.setdefault(alias, icon)
    return icons


def _string(value: str) -> str | None:
    """The text of a CSS string (``"\\f0c9"`` or the character itself), or None if ``value`` is not one."""
    value = value.strip().removesuffix("!important").strip()
    if len(value) < 2 or value[0] not in "\"'" or value[-1] != value[0]:
        return None
    return re.sub(r"\\([0-9a-fA-F]{1,6})\s?", lambda m: chr(int(m.group(1), 16)), value[1:-1])


def _mask(icon: tuple[int, int, str, str]) -> str:
    width, height, _, path = icon
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}'><path d='{path}'/></svg>"
    url = f'url("data:image/svg+xml,{quote(svg, safe=" /=:,.-")}") center/contain no-repeat'
    return (f'content:"";display:inline-block;width:{width / height:.4g}em;height:1em;vertical-align:-.125em;'
            f"background-color:currentColor;-webkit-mask:{url};mask:{url}")


def theme_names() -> set[str]:
    """Every ``fa-<name>`` the theme's templates and code name."""
    names = set()
    for theme in _themes():
        for path in theme.rglob("*"):
            if path.suffix in {".html", ".py"}:
                names.update(re.findall(r"\bfa-([a-z0-9-]+)", path.read_text(encoding="utf-8", errors="ignore")))
    return names


def stylesheet() -> str:
    """The icon rules, one per theme rule that draws a Font Awesome solid glyph."""
    icons = solid_icons()
    by_codepoint = {chr(int(icon[2], 16)): icon for icon in icons.values()}
    wanted = theme_names()
    css = [path.read_text(encoding="utf-8") for theme in _themes()
           for path in sorted(theme.rglob("static/styles/*.css"))]
    variables = {name: value.strip() for text in css for name, value in _VARIABLE.findall(text)}

    def resolve(value: str) -> str | None:
        for _ in range(5):
            m = re.fullmatch(r"\s*var\((--[a-z0-9-]+)\)\s*", value)
            if not m:
                break
            value = variables.get(m.group(1), "")
        return _string(value)

    rules: dict[str, str] = {}
    for text in css:
        for selector, body in _RULE.findall(text):
            selector = selector.strip()
            content = _CONTENT.search(body)
            if selector.startswith("@") or not content:
                continue
            glyph = resolve(content.group(1))
            icon = by_codepoint.get(glyph) if glyph and len(glyph) == 1 else None
            if icon is None:
                continue
            named = [re.fullmatch(r"\.fa-([a-z0-9-]+):{1,2}before", part.strip()) for part in selector.split(",")]
            if all(named):  # Font Awesome's own rule for a class and its aliases: keep the classes the theme names
                selector = ",".join(m.group(0) for m in named if m.group(1) in wanted)
                if not selector:
                    continue
            rules[selector] = _mask(icon)
    # and no element keeps the icon font (Chromium fetches a web font that an element names even if it
    # draws no glyph with it)
    for text in css:
        for selector, body in _RULE.findall(text):
            if "Font Awesome" in body and "font-family" in body and "@font-face" not in selector:
                rules.setdefault(selector.strip().rsplit("*/", 1)[-1].strip(), "font-family:inherit")
    fonts = sorted({name for text in css for name in re.findall(r"(--fa-font-[a-z]+):", text)})
    rules[":root"] = ";".join(f"{name}:normal 900 1em/1 sans-serif" for name in fonts)
    # the theme's own selectors, so the rules match exactly what the theme drew, and win by coming later
    body = "\n".join(f"{selector}{{{declarations}}}" for selector, declarations in rules.items())
    return f"/* {FILENAME}: Font Awesome icons the theme shows, as SVG masks (brbook.icons) */\n{body}\n"


def write(static: Path, keep: Path | None = None) -> Path:
    """Write the stylesheet into a site's ``_static`` folder; return its path. With ``keep`` (a folder the
    build keeps), a rebuild takes the stylesheet it made before for the same themes and the same code here
    instead of reading them again (~0.3 s)."""
    import hashlib

    import pydata_sphinx_theme
    import sphinx_book_theme

    from brbook.kept import kept

    made_from = (f"{pydata_sphinx_theme.__version__} {sphinx_book_theme.__version__} "
                 f"{hashlib.sha256(Path(__file__).read_bytes()).hexdigest()}")
    static.mkdir(parents=True, exist_ok=True)
    target = static / FILENAME
    target.write_text(kept(keep, made_from, stylesheet, ".css"), encoding="utf-8")
    return target
