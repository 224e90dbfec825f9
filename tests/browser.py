"""Headless Chromium for tests: screenshot a page, read its DOM after scripts ran, and
collect its JavaScript errors.

Usage from a test::

    from tests.browser import probe, render, require_chromium
    require_chromium()                      # skips the test when no browser is installed
    result = render(html_path, tmp_path / "shot.png")
    assert result["js_errors"] == []
    boxes = probe(html_path, "return document.body.getBoundingClientRect().width;")

How errors are caught without a DevTools connection: a copy of the page gets a tiny script
at the very top that records ``window.onerror`` messages, failed resource loads, unhandled
promise rejections and ``console.error`` calls into ``<pre id="tp-js-errors">``; Chromium's
``--dump-dom`` then prints the DOM after the scripts ran and we read that element back.
Host names resolve to nothing (``--host-resolver-rules``), so a page that still needs the
internet fails loudly here instead of quietly fetching a CDN copy.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ERRORS_ID = "tp-js-errors"

_CAPTURE = """<script>
(function () {
  var errors = [];
  function show() {
    var el = document.getElementById("__ID__");
    if (!el && document.body) {
      el = document.createElement("pre");
      el.id = "__ID__";
      el.style.display = "none";
      document.body.appendChild(el);
    }
    if (el) { el.textContent = JSON.stringify(errors); }
  }
  function record(message) { errors.push(String(message)); show(); }
  window.addEventListener("error", function (event) {
    var t = event.target;
    if (t && t !== window && (t.src || t.href)) {
      record("failed to load " + (t.tagName || "") + " " + (t.src || t.href));
    } else {
      record((event.message || "error") + " at " + (event.filename || "?") + ":" +
             (event.lineno || "?"));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    var r = event.reason;
    record("unhandled rejection: " + (r && r.message ? r.message : r));
  });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.slice.call(arguments).join(" "));
    return consoleError.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", show);
  window.addEventListener("load", show);
})();
</script>
""".replace("__ID__", ERRORS_ID)


def find_chromium() -> str | None:
    """Path of a Chromium / Chrome executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser path, or skip the calling test when there is none."""
    import pytest

    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium browser installed: apt-get install chromium")
    return path


def _inject(page: str) -> str:
    """The page with the error-capturing script as the first thing the browser runs."""
    match = re.search(r"<head\b[^>]*>", page, re.IGNORECASE)
    if match:
        return page[: match.end()] + "\n" + _CAPTURE + page[match.end() :]
    match = re.search(r"<html\b[^>]*>", page, re.IGNORECASE)
    if match:
        return page[: match.end()] + "<head>" + _CAPTURE + "</head>" + page[match.end() :]
    return _CAPTURE + page


def _chromium(
    browser: str, args: list[str], profile: Path, timeout: float
) -> subprocess.CompletedProcess:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )


def _dump_dom(
    browser: str, page: Path, width: int, height: int, budget_ms: int, profile: Path, timeout: float
) -> subprocess.CompletedProcess:
    """Chromium's serialised DOM of ``page`` after its scripts ran for ``budget_ms``."""
    return _chromium(
        browser,
        [
            f"--window-size={width},{height}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        profile,
        timeout,
    )


def _map_containers(dom: str) -> dict[str, dict[str, int]]:
    """Leaflet SVG paths inside each map container (folium maps carry class folium-map)."""
    starts = [
        (m.start(), m.group("id"))
        for m in re.finditer(
            r"<div\b(?=[^>]*\bclass=\"[^\"]*\bfolium-map\b)[^>]*\bid=\"(?P<id>[^\"]+)\"", dom
        )
    ]
    result: dict[str, dict[str, int]] = {}
    for i, (start, map_id) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(dom)
        chunk = dom[start:end]
        result[map_id] = {
            "interactive_paths": len(
                re.findall(r"<path\b[^>]*\bclass=\"[^\"]*\bleaflet-interactive\b", chunk)
            ),
            "paths": len(re.findall(r"<path\b", chunk)),
            "markers": len(re.findall(r"\bleaflet-marker-icon\b", chunk)),
        }
    return result


def render(
    html_path: str | Path,
    screenshot_path: str | Path,
    width: int = 1200,
    height: int = 800,
    timeout: float = 120.0,
    budget_ms: int = 5000,
) -> dict[str, Any]:
    """Open ``html_path`` in headless Chromium; screenshot it and read its final DOM.

    Returns a dict with ``screenshot`` (Path of the PNG), ``js_errors`` (list of messages;
    includes failed resource loads and console.error calls), ``dom`` (the serialised DOM
    after scripts ran), ``maps`` ({container id: {"interactive_paths", "paths", "markers"}})
    and ``stderr`` (Chromium's own log, for debugging).
    """
    browser = find_chromium()
    if browser is None:
        raise RuntimeError("no Chromium browser installed: apt-get install chromium")
    html_path = Path(html_path)
    screenshot_path = Path(screenshot_path)
    with tempfile.TemporaryDirectory(prefix="tp-chromium-") as tmp:
        tmp_dir = Path(tmp)
        # the copy sits next to the original so relative references behave the same
        probe = html_path.with_name(f".tp-probe-{html_path.name}")
        probe.write_text(_inject(html_path.read_text(encoding="utf-8")), encoding="utf-8")
        try:
            # Without these flags headless Chromium may capture before every compositor
            # tile of a large SVG map is rasterised (parts of the map come out blank).
            shot = _chromium(
                browser,
                [
                    "--run-all-compositor-stages-before-draw",
                    "--disable-threaded-animation",
                    "--disable-threaded-scrolling",
                    f"--screenshot={screenshot_path.resolve()}",
                    f"--window-size={width},{height}",
                    f"--virtual-time-budget={budget_ms}",
                    probe.resolve().as_uri(),
                ],
                tmp_dir / "profile-shot",
                timeout,
            )
            dump = _dump_dom(
                browser, probe, width, height, budget_ms, tmp_dir / "profile-dom", timeout
            )
        finally:
            probe.unlink(missing_ok=True)
    dom = dump.stdout
    match = re.search(rf'<pre\b[^>]*\bid="{ERRORS_ID}"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    if match is None:
        errors = ["the error-capturing script did not run (no DOM, or the page broke early)"]
        if dump.returncode != 0:
            errors.append(f"chromium exited with {dump.returncode}: {dump.stderr[-2000:]}")
    else:
        errors = json.loads(html_lib.unescape(match.group(1)) or "[]")
    if not screenshot_path.exists():
        errors.append(
            f"no screenshot written (chromium exit {shot.returncode}): {shot.stderr[-2000:]}"
        )
    return {
        "screenshot": screenshot_path,
        "js_errors": errors,
        "dom": dom,
        "maps": _map_containers(dom),
        "stderr": shot.stderr + dump.stderr,
    }


PROBE_ID = "tp-probe"

_PROBE = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var out;
    try { out = (function () { __BODY__ })(); }
    catch (error) { out = {"probe_error": String(error)}; }
    var el = document.createElement("pre");
    el.id = "__ID__";
    el.style.display = "none";
    el.textContent = JSON.stringify(out);
    document.body.appendChild(el);
  }, __DELAY__);
});
</script>
"""


def probe(
    html_path: str | Path,
    body: str,
    width: int = 1200,
    height: int = 800,
    delay_ms: int = 300,
    timeout: float = 120.0,
) -> Any:
    """Run the JavaScript function ``body`` in the page once it has loaded (and ``delay_ms``
    later, so layout and Leaflet have settled) and return what it returns, via JSON.

    ``body`` is a function body (``return {...};``): it may read boxes with
    getBoundingClientRect, click buttons, and read what changed.
    """
    browser = find_chromium()
    if browser is None:
        raise RuntimeError("no Chromium browser installed: apt-get install chromium")
    html_path = Path(html_path)
    script = (
        _PROBE.replace("__BODY__", body)
        .replace("__ID__", PROBE_ID)
        .replace("__DELAY__", str(int(delay_ms)))
    )
    page = html_path.read_text(encoding="utf-8")
    end = page.lower().rfind("</body>")
    page = page[:end] + script + page[end:] if end >= 0 else page + script
    with tempfile.TemporaryDirectory(prefix="tp-chromium-") as tmp:
        copy = html_path.with_name(f".tp-probe-js-{html_path.name}")
        copy.write_text(_inject(page), encoding="utf-8")
        try:
            dump = _dump_dom(browser, copy, width, height, delay_ms + 5000, Path(tmp), timeout)
        finally:
            copy.unlink(missing_ok=True)
    match = re.search(rf'<pre\b[^>]*\bid="{PROBE_ID}"[^>]*>(.*?)</pre>', dump.stdout, re.DOTALL)
    if match is None:
        raise RuntimeError(
            f"the probe did not run (chromium exit {dump.returncode}): {dump.stderr[-2000:]}"
        )
    return json.loads(html_lib.unescape(match.group(1)))


# --------------------------------------------------------------------------- PNG


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _decode_png_stdlib(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, raw pixel bytes) of an 8-bit RGB/RGBA/grey PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat = 8, []
    width = height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace != 0 or colour not in (0, 2, 4, 6):
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    out = bytearray(height * stride)
    prev = bytearray(stride)
    pos = 0
    for y in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((x + p) & 0xFF for x, p in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, prev[i], upleft)) & 0xFF
        out[y * stride : (y + 1) * stride] = line
        prev = line
    return width, height, bpp, bytes(out)


def png_stats(path: str | Path) -> dict[str, int]:
    """Width, height and number of distinct colours of a PNG (Pillow when installed, else a
    small stdlib decoder), to tell a drawn map from a blank page."""
    try:
        from PIL import Image
    except ImportError:
        width, height, bpp, pixels = _decode_png_stdlib(Path(path).read_bytes())
        colours = {pixels[i : i + bpp] for i in range(0, len(pixels), bpp)}
        return {"width": width, "height": height, "colours": len(colours)}
    with Image.open(path) as img:
        rgba = img.convert("RGBA")
        found = rgba.getcolors(maxcolors=1 << 24) or []
        return {"width": rgba.width, "height": rgba.height, "colours": len(found)}
