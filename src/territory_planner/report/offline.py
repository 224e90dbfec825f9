"""Standalone, offline HTML for folium pages.

folium's templates load Leaflet, jQuery, Bootstrap, Font Awesome and plugins from CDNs, so
a saved map is blank on a machine without internet (a planner on a plane, a locked-down
laptop, a CI box). :func:`make_offline` renders any folium object (Map, DualMap, Figure) and
replaces every ``<script src>`` / ``<link rel=stylesheet>`` with the inline content of a
copy vendored in ``report/assets/`` (see ``assets/LICENSES.md``); images referenced from the
CSS become data URIs. Resources the engine's pages do not need (Bootstrap, icon fonts) are
dropped. A CDN URL with no known copy raises :class:`OfflineAssetError`, so a folium upgrade
that adds a resource fails loudly instead of shipping a page that silently needs internet.

Only tile layers may still point at the internet: they are optional, chosen by the user
(``tiles=...``), and the page still works without them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from branca.element import Element

__all__ = [
    "OfflineAssetError",
    "make_offline",
    "inline_assets",
    "check_offline",
    "write_offline_html",
    "ASSET_DIR",
]

ASSET_DIR = Path(__file__).with_name("assets")


class OfflineAssetError(RuntimeError):
    """A page references a web resource that has no vendored offline copy."""


@dataclass(frozen=True)
class _Asset:
    """How one kind of CDN resource is served offline.

    ``files`` are vendored files concatenated in order (empty: the resource is dropped);
    ``image_prefix`` maps ``url(images/X)`` in a stylesheet to the vendored ``prefix + X``;
    ``needed_if`` drops the resource when that text does not occur elsewhere in the page.
    """

    name: str
    pattern: str
    kind: str  # "js" or "css"
    files: tuple[str, ...] = ()
    image_prefix: str | None = None
    needed_if: str | None = None
    after: str = ""  # extra inline code appended after the files (js only)


# Data URIs of Leaflet's default marker images, so L.marker() without an icon still works:
# Leaflet normally derives the image folder from the stylesheet's URL, which an inline
# stylesheet does not have.
_LEAFLET_ICON_SHIM = (
    "(function(){var D=L.Icon.Default;D.imagePath='';D.mergeOptions({"
    "iconUrl:'@leaflet-marker-icon.png',iconRetinaUrl:'@leaflet-marker-icon-2x.png',"
    "shadowUrl:'@leaflet-marker-shadow.png'});})();"
)

# Patterns match the URL path, not a pinned version, so minor folium upgrades keep working.
_ASSETS: tuple[_Asset, ...] = (
    _Asset(
        "leaflet",
        r"/leaflet(@[\d.]+)?/dist/leaflet(-src)?\.js$|/leaflet/[\d.]+/leaflet\.js$",
        "js",
        ("leaflet.js",),
        after=_LEAFLET_ICON_SHIM,
    ),
    _Asset(
        "leaflet_css",
        r"/leaflet(@[\d.]+)?/dist/leaflet\.css$|/leaflet/[\d.]+/leaflet\.css$",
        "css",
        ("leaflet.css",),
        image_prefix="leaflet-",
    ),
    _Asset(
        "jquery",
        r"/jquery-3\.[\d.]+(\.min)?\.js$|/jquery/3\.[\d.]+/jquery(\.min)?\.js$|"
        r"/jquery@3\.[\d.]+/dist/jquery(\.min)?\.js$",
        "js",
        ("jquery.min.js",),
    ),
    _Asset(
        "markercluster",
        r"/leaflet\.markercluster(@[\d.]+)?/(dist/)?leaflet\.markercluster"
        r"(-src)?\.js$|/leaflet\.markercluster/[\d.]+/leaflet\.markercluster(-src)?\.js$",
        "js",
        ("leaflet.markercluster.js",),
    ),
    _Asset("markercluster_css", r"/MarkerCluster\.css$", "css", ("MarkerCluster.css",)),
    _Asset(
        "markercluster_default_css",
        r"/MarkerCluster\.Default\.css$",
        "css",
        ("MarkerCluster.Default.css",),
    ),
    _Asset("leaflet_sync", r"/L\.Map\.Sync(\.min)?\.js$", "js", ("L.Map.Sync.js",)),
    _Asset(
        "awesome_markers",
        r"/leaflet\.awesome-markers(\.min)?\.js$",
        "js",
        ("leaflet.awesome-markers.js",),
        needed_if="AwesomeMarkers",
    ),
    _Asset(
        "awesome_markers_css",
        r"/leaflet\.awesome-markers(\.min)?\.css$",
        "css",
        ("leaflet.awesome-markers.css",),
        image_prefix="awesome-",
        needed_if="AwesomeMarkers",
    ),
    # Rotation classes for awesome-marker icons: generated for the angles the page uses.
    _Asset("awesome_rotate", r"/leaflet\.awesome\.rotate(\.min)?\.css$", "css"),
    # Not needed by the engine's pages; dropping them keeps the file small. Icon glyphs of
    # folium.Icon (Font Awesome / Glyphicons) therefore do not render offline: the engine
    # draws its markers with DivIcon / circle markers instead.
    _Asset("bootstrap", r"/bootstrap(@[\d.]+)?/dist/js/bootstrap(\.bundle)?(\.min)?\.js$", "js"),
    _Asset("bootstrap_css", r"/bootstrap(@[\d.]+)?/dist/css/bootstrap(\.min)?\.css$", "css"),
    _Asset("glyphicons", r"/bootstrap-glyphicons\.css$", "css"),
    _Asset(
        "fontawesome",
        r"/fontawesome-free(@[\d.]+)?/css/all(\.min)?\.css$|"
        r"/font-awesome/[\d.]+/css/(all|font-awesome)(\.min)?\.css$",
        "css",
    ),
)

_SCRIPT_SRC = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"'])(?P<url>[^\"']+)\1[^>]*>\s*</script>", re.IGNORECASE
)
_LINK_CSS = re.compile(
    r"<link\b(?=[^>]*\brel\s*=\s*[\"']?stylesheet)[^>]*?\bhref\s*=\s*([\"'])(?P<url>[^\"']+)\1"
    r"[^>]*>",
    re.IGNORECASE,
)
_CSS_IMAGE = re.compile(r"url\(\s*([\"']?)images/(?P<name>[^\"')]+)\1\s*\)")
_ROTATE_CLASS = re.compile(r"fa-rotate-(-?\d+)")

# Anything that would still make the browser fetch from the network (tiles excepted).
_REMOTE_REFS = (
    re.compile(r"<script\b[^>]*\bsrc\s*=", re.IGNORECASE),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?(https?:)?//", re.IGNORECASE),
    re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE),
    re.compile(r"url\(\s*[\"']?(https?:)?//", re.IGNORECASE),
    re.compile(r"@import\b", re.IGNORECASE),
    re.compile(r"https?://cdn", re.IGNORECASE),
)


@cache
def _asset_bytes(name: str) -> bytes:
    path = ASSET_DIR / name
    if not path.is_file():
        raise OfflineAssetError(f"vendored asset {name} is missing from {ASSET_DIR}")
    return path.read_bytes()


@cache
def _data_uri(name: str) -> str:
    mime = "image/png" if name.endswith(".png") else "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(_asset_bytes(name)).decode("ascii")


_SOURCE_MAP = re.compile(
    r"^\s*(//[#@]\s*sourceMappingURL=\S*|/\*[#@]\s*sourceMappingURL=[^*]*\*/)"
    r"\s*$",
    re.MULTILINE,
)


def _asset_text(asset: _Asset) -> str:
    parts = [_asset_bytes(f).decode("utf-8") for f in asset.files]
    # Source-map comments point at files that are not shipped: drop them.
    text = _SOURCE_MAP.sub("", "\n".join(parts))
    if asset.kind == "css" and asset.image_prefix is not None:

        def to_data(match: re.Match) -> str:
            return f'url("{_data_uri(asset.image_prefix + match.group("name"))}")'

        text = _CSS_IMAGE.sub(to_data, text)
    if asset.after:
        text += "\n" + re.sub(r"@([\w.\-@]+\.png)", lambda m: _data_uri(m.group(1)), asset.after)
    return text


def _find_asset(url: str, kind: str) -> _Asset | None:
    for asset in _ASSETS:
        if asset.kind == kind and re.search(asset.pattern, url.split("?")[0]):
            return asset
    return None


def _script_tag(code: str) -> str:
    # "</script" inside inline code would end the element early; "<\/" means the same in JS.
    return (
        "<script>\n" + re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE) + "\n</script>"
    )


def _style_tag(css: str) -> str:
    return "<style>\n" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE) + "\n</style>"


def _rotate_css(page: str) -> str:
    angles = sorted({int(a) for a in _ROTATE_CLASS.findall(page)} - {0})
    return "".join(f".fa-rotate-{a}{{transform:rotate({a}deg)}}" for a in angles)


def check_offline(html: str) -> None:
    """Raise :class:`OfflineAssetError` if ``html`` still loads anything from the network
    other than map tiles."""
    offenders = []
    for pattern in _REMOTE_REFS:
        for match in pattern.finditer(html):
            start = max(0, match.start() - 40)
            offenders.append(html[start : match.end() + 80].replace("\n", " "))
    if offenders:
        raise OfflineAssetError(
            "the page still references web resources: " + " | ".join(offenders[:5])
        )


def inline_assets(html: str) -> str:
    """Inline the vendored copies of every CDN script and stylesheet of a rendered page.

    Raises :class:`OfflineAssetError` naming the URLs that have no vendored copy (add the
    file to ``report/assets/`` and a pattern to ``_ASSETS``).
    """
    unknown: list[str] = []
    placeholders: dict[str, str] = {}
    seen: set[str] = set()

    def replace(match: re.Match, kind: str) -> str:
        url = match.group("url")
        if url.startswith("data:"):
            return match.group(0)
        asset = _find_asset(url, kind)
        if asset is None:
            unknown.append(url)
            return match.group(0)
        if asset.name in seen:  # the same library referenced twice (e.g. by two plugins)
            return ""
        seen.add(asset.name)
        key = f"\x00tp-asset-{asset.name}\x00"
        placeholders[key] = asset.name
        return key

    page = _SCRIPT_SRC.sub(lambda m: replace(m, "js"), html)
    page = _LINK_CSS.sub(lambda m: replace(m, "css"), page)
    if unknown:
        raise OfflineAssetError(
            "no offline copy of these web resources (a new folium version or plugin?): "
            + ", ".join(sorted(set(unknown)))
            + f"; vendor them into {ASSET_DIR} and register them in report/offline.py"
        )

    by_name = {asset.name: asset for asset in _ASSETS}
    # Decide on optional resources by looking at the page without any library code in it.
    bare = page
    for key, name in placeholders.items():
        asset = by_name[name]
        if asset.needed_if is not None and asset.needed_if not in bare:
            content = ""
        elif name == "awesome_rotate":
            css = _rotate_css(bare)
            content = _style_tag(css) if css else ""
        elif not asset.files:
            content = ""
        elif asset.kind == "js":
            content = _script_tag(_asset_text(asset))
        else:
            content = _style_tag(_asset_text(asset))
        page = page.replace(key, content, 1)
    check_offline(page)
    return page


def _element_ids(root: Any) -> set[str]:
    """The random ``_id`` of every branca element reachable from ``root``."""
    ids: set[str] = set()
    seen: set[int] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        if id(element) in seen:
            continue
        seen.add(id(element))
        element_id = getattr(element, "_id", None)
        if isinstance(element_id, str):
            ids.add(element_id)
        for value in vars(element).values():
            if isinstance(value, Element):
                stack.append(value)
            elif isinstance(value, dict):
                stack.extend(v for v in value.values() if isinstance(v, Element))
            elif isinstance(value, (list, tuple)):
                stack.extend(v for v in value if isinstance(v, Element))
    return ids


def _stable_ids(html: str, ids: set[str]) -> str:
    """Replace folium's random element IDs (uuid4 hex) by IDs numbered in order of first
    appearance, so the same plan gives the same map.html byte for byte."""
    renamed: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        old = match.group(0)
        if old not in ids:
            return old
        if old not in renamed:
            renamed[old] = hashlib.sha1(f"tp-{len(renamed)}".encode()).hexdigest()[:32]
        return renamed[old]

    return re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", rename, html)


def make_offline(obj: Any, stable_ids: bool = True) -> str:
    """The standalone HTML of a folium Map / DualMap / Figure (or of rendered HTML text),
    with every script and stylesheet inlined; it needs no internet except for tiles.

    With ``stable_ids`` the random element IDs folium generates are renumbered, so equal
    inputs give byte-identical pages (plans are reproducible, diffs stay meaningful).
    """
    if isinstance(obj, str):
        html = obj
    else:
        root = obj.get_root()
        html = root.render()
        if stable_ids:
            html = _stable_ids(html, _element_ids(root))
    return inline_assets(html)


def write_offline_html(obj: Any, path: str | Path) -> Path:
    """Write :func:`make_offline` of ``obj`` to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(make_offline(obj), encoding="utf-8")
    return path
