"""A headless-browser screenshot of a Prefect UI page, e.g. one reel run's Artifacts tab.

    python deployments/screenshot.py --flow-run ID out.png [--ui http://127.0.0.1:4200] [--tab Artifacts]
    python deployments/screenshot.py --url http://127.0.0.1:4200/artifacts out.png

Uses Debian's chromium (`apt-get install -y chromium`) with a throwaway profile and nothing that
calls outside the machine. The UI is a single-page app that hides a run's Artifacts tab until the
run has loaded (so `?tab=Artifacts` in the address is not enough): the script drives the page over
the DevTools protocol, clicks the tab, waits for the page (and an optional text) to appear and its
images to load, then captures the window.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1",
                  "--remote-debugging-port=0"]

CLICK_TAB = """(() => {
  const want = %s;
  const el = [...document.querySelectorAll('.p-tab, [role=tab], button, a')]
    .find(e => e.textContent.trim() === want && e.offsetParent !== null);
  if (!el) return false;
  el.click();
  return true;
})()"""
READY = """(() => {
  const want = %s;
  return document.readyState === 'complete' && [...document.images].every(i => i.complete)
    && (!want || document.body.innerText.includes(want));
})()"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SystemExit("chromium not found; install it with: apt-get install -y chromium")
    return found


def run_page(ui: str, flow_run_id: str) -> str:
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}"


class DevTools:
    """The smallest DevTools-protocol client: one page, one call at a time."""

    def __init__(self, ws_url: str):
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None, open_timeout=30)
        self.n = 0

    def call(self, method: str, timeout: float = 60, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not self.eval(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page did not show {what} within {timeout:.0f}s")
            time.sleep(0.5)

    def close(self) -> None:
        self.ws.close()


def _devtools_url(profile: Path, proc: subprocess.Popen, timeout: float = 60) -> str:
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while not (port_file.exists() and port_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"chromium did not start (exit {proc.poll()})")
        time.sleep(0.2)
    port = int(port_file.read_text().split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
        pages = [t for t in json.load(r) if t.get("type") == "page"]
    return pages[0]["webSocketDebuggerUrl"]


def screenshot(url: str, out: Path, tab: str | None = None, wait_text: str | None = None,
               size: tuple[int, int] = (1400, 1800), timeout: float = 90, settle: float = 2.0) -> Path:
    """Open `url`, click `tab` if given, wait for `wait_text` and the images, write a PNG to `out`."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reel-chromium-") as tmp:
        profile = Path(tmp)
        proc = subprocess.Popen([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                 f"--window-size={size[0]},{size[1]}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            page = DevTools(_devtools_url(profile, proc))
            try:
                page.call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1],
                          deviceScaleFactor=1, mobile=False)
                page.call("Page.enable")
                page.call("Page.navigate", url=url)
                if tab:
                    page.wait_for(CLICK_TAB % json.dumps(tab), timeout, f"a {tab!r} tab")
                page.wait_for(READY % json.dumps(wait_text or ""), timeout,
                              repr(wait_text) if wait_text else "its images loaded")
                time.sleep(settle)  # transitions and late layout
                png = page.call("Page.captureScreenshot", format="png")["data"]
            finally:
                page.close()
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)
    out.write_bytes(base64.b64decode(png))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="PNG to write")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--url", help="any page")
    what.add_argument("--flow-run", help="a flow run id: its page in the UI, on the tab --tab")
    p.add_argument("--ui", default="http://127.0.0.1:4200", help="the Prefect UI (default http://127.0.0.1:4200)")
    p.add_argument("--tab", default=None, help="tab to open (default Artifacts for --flow-run)")
    p.add_argument("--wait-text", default=None, help="wait until the page shows this text")
    p.add_argument("--size", default="1400,1800", help="window WIDTH,HEIGHT in pixels")
    p.add_argument("--timeout", type=float, default=90, help="seconds to wait for the page")
    args = p.parse_args(argv)
    url = args.url or run_page(args.ui, args.flow_run)
    tab = args.tab or (None if args.url else "Artifacts")
    width, height = (int(v) for v in args.size.split(","))
    print(screenshot(url, args.out, tab, args.wait_text, (width, height), args.timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
