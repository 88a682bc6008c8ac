"""Take the README screenshots: start ``app.py --demo`` on a temporary store, shoot with chromium.

    python scripts/screenshot.py [--out docs] [--chromium /usr/bin/chromium]

Writes docs/dashboard.png (1280 px wide), docs/dashboard-mobile.png (390 px wide) and
docs/dashboard-dark.png (1280 px, dark mode).
Needs no network: the app serves everything (CSS, fonts, JS) itself.
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
SHOTS = {"dashboard.png": ("", 1280, 2300), "dashboard-mobile.png": ("", 390, 1800),
         "dashboard-dark.png": ("?theme=dark", 1280, 2300)}


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


def shoot(chromium: str, url: str, out: Path, width: int, height: int) -> None:
    """One headless chromium screenshot of ``url``."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        "--virtual-time-budget=40000", f"--screenshot={out}", url],
                       check=True, capture_output=True, timeout=120)


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
               "BTCFOLIO__CACHE__DIR": f"{tmp}/cache"}
        cmd = [sys.executable, str(ROOT / "app.py"), "--demo", "--port", str(port)]
        app = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/portfolio/dashboard"
            _wait(url)
            for name, (query, width, height) in SHOTS.items():
                shoot(args.chromium, url + query, Path(args.out) / name, width, height)
        finally:
            app.terminate()
            app.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
