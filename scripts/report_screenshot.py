"""Render a report HTML in headless Chromium and save a PNG, to look at it as a user would.

    python scripts/report_screenshot.py report.html report.png [--width 1280 --height 2400]

Uses /usr/bin/chromium (Debian's package) with a fresh profile and no network features, so it
works offline. Exit 2 when no Chromium is installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2400, timeout: int = 90) -> None:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium found")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={png.resolve()}", f"--window-size={width},{height}",
               html.resolve().as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot at {png}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2400)
    a = ap.parse_args()
    try:
        screenshot(a.html, a.png, a.width, a.height)
    except FileNotFoundError as e:
        print(e, file=sys.stderr)
        return 2
    print(f"wrote {a.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
