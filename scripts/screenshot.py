"""Take the README screenshots: start ``app.py --demo`` on a temporary store, shoot with chromium.

    python scripts/screenshot.py [--out docs] [--chromium /usr/bin/chromium]

Writes docs/dashboard.png (1280 px wide), docs/dashboard-mobile.png (390 px wide) and
docs/dashboard-dark.png (1280 px, dark mode).
Needs no network: the app serves everything (CSS, fonts, JS) itself. Uses selenium with
Debian's chromium + chromium-driver (as the browser tests do) and waits in real time so the
demo feed has ticked: the shots show the live "since refresh" changes.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFRESH_SECONDS = 3
# name -> (query, width, height); height None = the whole page.
SHOTS = {"dashboard.png": ("", 1280, None), "dashboard-mobile.png": ("", 390, 1800),
         "dashboard-dark.png": ("?theme=dark", 1280, 1000)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 30.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app did not answer at {url}")


def shoot(chromium: str, urls: dict[str, tuple[str, int, int | None]], out: Path, *,
          settle_seconds: float) -> None:
    """Headless chromium screenshots, taken after the page has refreshed a few times."""
    from selenium import webdriver  # test dependency (dash[testing]); imported only here

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--disable-background-networking", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    try:
        for name, (url, width, height) in urls.items():
            driver.set_window_size(width, height or 1000)
            driver.get(url)
            time.sleep(settle_seconds)  # real time: let the demo feed tick and the page patch
            if height is None:  # the whole page: grow the window to the document's height
                full = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(width, int(full) + 200)
                time.sleep(1.0)
            driver.save_screenshot(str(out / name))
    finally:
        driver.quit()


def main() -> int:
    """Start the demo app, take every screenshot, stop the app."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--chromium", default=os.environ.get("DASH_TEST_CHROMEPATH",
                                                             "/usr/bin/chromium"))
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/shot.db",
               "BTCFOLIO__CACHE__DIR": f"{tmp}/cache",
               # Faster ticks than the default 30 s so the shots show live changes.
               "BTCFOLIO__REFRESH__INTERVAL_SECONDS": str(REFRESH_SECONDS)}
        cmd = [sys.executable, str(ROOT / "app.py"), "--demo", "--port", str(port)]
        app = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/portfolio/dashboard"
            _wait(url)
            shoot(args.chromium, {n: (url + q, w, h) for n, (q, w, h) in SHOTS.items()},
                  Path(args.out), settle_seconds=3 * REFRESH_SECONDS + 2)
        finally:
            app.terminate()
            app.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
