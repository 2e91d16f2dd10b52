"""Headless Chromium driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``).

No package needed: Chromium reads commands on fd 3 and writes replies and events on fd 4, each a JSON
message ended by a NUL byte. Used by the browser test of the report (tests/test_report_browser.py).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def find_chromium() -> str | None:
    """The Chromium binary (Debian's ``chromium`` first), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageReport:
    """What one page load produced: console messages, uncaught exceptions, log entries, image states."""

    console: list[dict] = field(default_factory=list)
    exceptions: list[dict] = field(default_factory=list)
    log_entries: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    title: str = ""

    @property
    def errors(self) -> list[str]:
        """Every console error/warning, uncaught exception and browser log error, as text."""
        out = [f"console.{m['type']}: {m['text']}" for m in self.console if m["type"] in ("error", "warning", "assert")]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log {e['level']}: {e['text']} {e.get('url', '')}" for e in self.log_entries
                if e["level"] in ("error", "warning")]
        return out


class Chromium:
    """One headless Chromium process with one page, driven over the DevTools pipe."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="rpd-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # fd 3 = the browser's command input, fd 4 = its output; arrange them in the child only. Move both
        # ends above 10 first, so neither dup2 can overwrite the other. close_fds=False keeps 3 and 4 open
        # (pass_fds cannot name them: they need not exist in this process); Python's own fds are
        # non-inheritable, so nothing else leaks into the browser.
        def child_fds() -> None:
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)

    # ---------------------------------------------------------------- protocol
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError(f"chromium closed the pipe (exit code {self.proc.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: bool = False, **params: object) -> dict:
        """Send one command and return its result (events seen meanwhile are kept in ``events``)."""
        self._next_id += 1
        msg: dict = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, event: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == event:
                    return self.events.pop(i)
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression: str) -> object:
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    # ---------------------------------------------------------------- page-level helpers
    def load(self, url: str) -> PageReport:
        """Navigate, wait for the load event and for every image to settle, and report what happened."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_for("Page.loadEventFired")
        images = self.evaluate(
            "Promise.all(Array.from(document.images).map(img => img.decode().then(() => true, () => false)"
            ".then(decoded => ({src: img.getAttribute('src'), alt: img.alt, complete: img.complete,"
            " naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, decoded}))))")
        self.call("Runtime.evaluate", session=True, expression="1")  # flush pending events
        report = PageReport(images=list(images or []), title=str(self.evaluate("document.title")))
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
                report.console.append({"type": p.get("type"), "text": text})
            elif e["method"] == "Runtime.exceptionThrown":
                details = p.get("exceptionDetails", {})
                report.exceptions.append(details.get("exception", {}).get("description", details.get("text")))
            elif e["method"] == "Log.entryAdded":
                entry = p.get("entry", {})
                report.log_entries.append({"level": entry.get("level"), "text": entry.get("text"),
                                           "url": entry.get("url", "")})
        return report

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """Save a PNG of the viewport (or of the whole page)."""
        params: dict = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000),
                                "scale": 1})
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def screenshot_from(self, selector: str, path: Path, height: int = 2400) -> Path:
        """Save a PNG of the page from the top of the element ``selector`` down (``height`` CSS pixels)."""
        top = self.evaluate(f"document.querySelector({json.dumps(selector)}).getBoundingClientRect().top + scrollY")
        width = self.call("Page.getLayoutMetrics", session=True)["cssContentSize"]["width"]
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": float(top), "width": width, "height": height, "scale": 1})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def screenshot_element(self, selector: str, path: Path) -> Path:
        """Save a PNG of exactly the element ``selector`` as the page shows it (1 CSS pixel = 1 pixel)."""
        rect = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView();"
                             " const r = e.getBoundingClientRect();"
                             " return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()")
        x, y, width, height = (float(v) for v in rect)
        data = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={"x": x, "y": y, "width": width, "height": height, "scale": 1})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
