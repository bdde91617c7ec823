"""Benchmark 5: importing a generated 100,000-row catalogue CSV in GBK through
``bot catalogue import`` as a subprocess: wall time and the child's peak memory
(``/usr/bin/time -v`` when present, else ru_maxrss of the child)."""

from __future__ import annotations

import argparse
import csv
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.burst import APPID, SECRET

KINDS = ("platform", "exhibit", "course", "lesson", "article")
GNU_TIME = Path("/usr/bin/time")


def write_catalogue(path: Path, rows: int) -> None:
    """``rows`` resources, GBK-encoded, Chinese titles, summaries and tags."""
    with path.open("w", encoding="gbk", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "kind", "title", "summary", "url", "cover", "tags"])
        for i in range(rows):
            writer.writerow(
                [
                    f"res-{i:06d}",
                    KINDS[i % 5],
                    f"青年学习资源 第{i}号",
                    f"团员青年可通过本资源学习党的理论与团的知识，编号{i}。",
                    f"https://example.org/resource/{i}",
                    "",
                    "理论学习;团课",
                ]
            )


def config_text(db_path: Path) -> str:
    return (
        f'[database]\nurl = "sqlite+aiosqlite:///{db_path}"\n\n'
        f'[[accounts]]\nname = "main"\nappid = "{APPID}"\nsecret = "{SECRET}"\n\n'
        '[[columns]]\nname = "学习平台"\naccount = "main"\n'
    )


def run_import(rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        base = Path(tmp)
        csv_path = base / "catalogue.csv"
        write_catalogue(csv_path, rows)
        cfg = base / "config.toml"
        cfg.write_text(config_text(base / "import.db"), encoding="utf-8")
        bot = [sys.executable, "-m", "bot", "--config", str(cfg)]
        subprocess.run([*bot, "db", "upgrade"], check=True, capture_output=True)
        command = [*bot, "catalogue", "import", str(csv_path)]
        use_time = GNU_TIME.exists()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        done = subprocess.run(
            [str(GNU_TIME), "-v", *command] if use_time else command,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode != 0:
            return {"rows": rows, "error": done.stderr.strip()[-500:]}
        if use_time:
            match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
            peak_kb = int(match.group(1)) if match else 0
            how = "/usr/bin/time -v"
        else:
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            how = "ru_maxrss (RUSAGE_CHILDREN)" + (" (may be an earlier child)" if before else "")
        return {
            "rows": rows,
            "csv_mb": round(csv_path.stat().st_size / 2**20, 1),
            "wall_s": round(wall, 2),
            "rows_per_s": round(rows / wall),
            "peak_rss_mb": round(peak_kb / 1024, 1),
            "measured_with": how,
            "output": done.stdout.strip()[-200:],
        }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.import_catalogue")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(run_import(args.rows), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
