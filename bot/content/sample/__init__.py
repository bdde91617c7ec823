"""Where the sample catalogue and the default cover shipped with the project live.

``catalogue.csv`` is GBK with CRLF line ends, exactly as Excel on Chinese Windows saves a
CSV, so the demo exercises that import path; the covers are drawn by ``bot.content.covers``.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_DIR = Path(__file__).parent
SAMPLE_CATALOGUE = SAMPLE_DIR / "catalogue.csv"
DEFAULT_COVER = SAMPLE_DIR / "default-cover.jpg"  # a column that names no cover uses this


def sample_catalogue_path() -> Path:
    """The sample catalogue shipped with the project."""
    return SAMPLE_CATALOGUE
