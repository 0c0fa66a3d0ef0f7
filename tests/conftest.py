"""Shared test fixtures. Keep this small: helpers for one module live in that module's tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
REAL = ROOT.parent / "shared" / "data" / "real"


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None, env: dict | None = None,
            module: str = "curator") -> subprocess.CompletedProcess:
    """Run `curate` (or `train` with module="trainer") through the real entry point in a subprocess."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e["COLUMNS"] = "200"  # fixed width: a COLUMNS another test (or the runner) left behind must not rewrap tables
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd or ROOT, capture_output=True, text=True,
                          input=input, env=e, timeout=600)


@pytest.fixture
def sample() -> Path:
    return SAMPLE


@pytest.fixture
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip("../shared/data/real is absent")
    return REAL


@pytest.fixture(autouse=True)
def _english_ui(monkeypatch):
    """Tests assert English messages; a developer's zh_* locale must not switch them to Chinese
    (tests of the Chinese UI set CURATE_UI_LANG or pass --ui-lang themselves)."""
    monkeypatch.setenv("CURATE_UI_LANG", "en")


@pytest.fixture(scope="module")
def ray_address():
    """One local Ray instance (2 CPUs) per test module; CLI runs join it with --ray-address."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
