"""Take the README screenshots: start ``app.py --demo`` on a temporary store, shoot with chromium.

    python scripts/screenshot.py [--out docs] [--chromium /usr/bin/chromium]

Writes the whole page at 1280 px (docs/dashboard.png, docs/dashboard-dark.png) and at 390 px
(docs/dashboard-mobile.png, docs/dashboard-mobile-dark.png), light and dark.
Needs no network: the app serves everything (CSS, fonts, JS) itself. Uses selenium with
Debian's chromium + chromium-driver (as the browser tests do) and waits in real time so the
demo feed has ticked: the shots show the live "since refresh" changes.

The viewport is set with CDP (Emulation.setDeviceMetricsOverride, a phone's touch layout below
768 px): headless chromium clamps ``set_window_size`` to a minimum width, so a "390 px" window
would really be wider. With ``pngquant`` installed (Debian: ``apt-get install pngquant``) the
PNGs are quantized to a few hundred KB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFRESH_SECONDS = 3
# name -> (query, width): the whole page at that viewport width.
SHOTS = {"dashboard.png": ("", 1280), "dashboard-dark.png": ("?theme=dark", 1280),
         "dashboard-mobile.png": ("", 390), "dashboard-mobile-dark.png": ("?theme=dark", 390)}
PHONE_BELOW = 768  # Bootstrap's md breakpoint: narrower viewports are emulated as touch phones


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


def _viewport(driver, width: int, height: int) -> None:  # untyped: selenium driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1,
        "mobile": width < PHONE_BELOW})


# Every panel filled: cards and header values (no placeholders left), every chart drawn, the
# rebalance and suggested-mix tables there. A fresh store's first page takes a while.
READY_JS = """
return document.querySelectorAll('.asset-card').length > 0
  && document.querySelectorAll('.placeholder').length === 0
  && document.querySelectorAll('.js-plotly-plot').length >= 6
  && [...document.querySelectorAll('.js-plotly-plot')].every(
       g => g.querySelector('.trace, .slice, .hm'))
  && document.querySelector('#dashboard-rebalance-table table, #dashboard-rebalance-table .alert')
  && document.querySelector('#dashboard-mix-table table, #dashboard-mix-table .alert');
"""


def _wait_ready(driver, timeout: float = 90.0) -> None:  # untyped: selenium driver
    started = time.monotonic()
    while not driver.execute_script(READY_JS):
        if time.monotonic() - started > timeout:
            raise SystemExit("the dashboard did not fill in time")
        time.sleep(0.5)


def _quantize(path: Path) -> None:
    """Shrink a screenshot with pngquant when it is installed (kept as is otherwise)."""
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality", "65-90",
                        "--output", str(path), str(path)], check=False)


def shoot(chromium: str, urls: dict[str, tuple[str, int]], out: Path, *,
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
        for name, (url, width) in urls.items():
            _viewport(driver, width, 900)
            driver.get(url)
            _wait_ready(driver)
            time.sleep(settle_seconds)  # real time: let the demo feed tick and the page patch
            # The whole page: grow the viewport to the document's height (same width).
            full = driver.execute_script("return document.documentElement.scrollHeight")
            _viewport(driver, width, int(full))
            time.sleep(1.5)
            driver.save_screenshot(str(out / name))
            _quantize(out / name)
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
            shoot(args.chromium, {n: (url + q, w) for n, (q, w) in SHOTS.items()},
                  Path(args.out), settle_seconds=3 * REFRESH_SECONDS + 2)
        finally:
            app.terminate()
            app.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
