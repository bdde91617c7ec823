"""End-to-end rig: the real ``bot`` script as a subprocess, a project directory with its own
config.toml, ``bot simulator`` and ``bot serve`` as subprocesses on free loopback ports.

Every subprocess runs in its own process group and is killed (the whole group) in a
``finally`` block, so a failing test never leaves a server behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

BOT = Path(sys.executable).parent / "bot"
APPID = "wxe2e0000000000001"
SECRET = "e2e-simulator-secret"
SECRET_ENV = "BOT_E2E_WX_SECRET"
COLUMN = "学习平台"
ISO_WITH_OFFSET = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$"
# Variables of the caller that would change which config or password a command sees.
_SCRUBBED = ("BOT_CONFIG", "BOT_NEW_PASSWORD")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env[SECRET_ENV] = SECRET
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def kill_group(proc: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Signal the process's whole group (it was started in a session of its own) and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as one JSON document (fails when there is anything else on stdout)."""
        assert self.code == 0, f"bot {' '.join(self.args)} exited {self.code}: {self.stderr}"
        return json.loads(self.stdout)

    @property
    def error_line(self) -> str:
        """The one line a user error prints; fails unless stderr is exactly one line."""
        lines = self.stderr.splitlines()
        assert len(lines) == 1, f"expected one line on stderr, got {self.stderr!r}"
        return lines[0]


def run_bot(
    args: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
    stdin: str | None = None,
) -> Result:
    """Run ``bot ARGS`` to the end; kill its group and fail the test when it overruns."""
    proc = subprocess.Popen(
        [str(BOT), *args],
        cwd=cwd,
        env=env if env is not None else bot_env(),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(f"bot {' '.join(args)} ran over {timeout}s; stderr: {err}")
    finally:
        kill_group(proc)
    return Result(tuple(args), proc.returncode, out, err)


def http_json(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def wait_until_answers(url: str, proc: subprocess.Popen[Any], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{url} process exited {proc.returncode}: {read_text(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {timeout}s: {read_text(log)}")


def read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


# --- the simulator --------------------------------------------------------------------------


@dataclass
class Simulator:
    url: str
    proc: subprocess.Popen[Any]
    log: Path

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = http_json("GET", f"{self.url}/_sim/state")
        return state

    def set_faults(self, **faults: Any) -> None:
        http_json("POST", f"{self.url}/_sim/faults", faults)

    def published_titles(self) -> list[str]:
        return [a["title"] for a in self.state()["published"]]


_LAUNCHER = """
import asyncio, json, sys
from bot.account.simulator import SimulatorConfig, run_forever
s = json.loads(sys.argv[1])
config = SimulatorConfig.for_profile(s["profile"], **s.pop("config"))
asyncio.run(run_forever(config, "127.0.0.1", s["port"]))
"""


@contextlib.contextmanager
def simulator_process(
    workdir: Path,
    *,
    publish_delay: float = 0.2,
    lost_answer_rate: float = 0.0,
    fault_rate: float = 0.0,
    seed: int = 1,
    quotas: dict[str, int] | None = None,
    profile: str = "documented",
) -> Iterator[Simulator]:
    """``bot simulator`` on a free port, ready when it yields, behaving as ``profile`` says
    (documented or realistic, ``bot simulator --help``). ``quotas`` raises daily limits
    (a hundred posts need more than a new account's 100 submits and polls a day); the CLI has
    no flag for that, so the same simulator is then started by a two-line launcher."""
    port = free_port()
    log = workdir / f"simulator-{port}.log"
    if quotas:
        settings = {
            "port": port,
            "profile": profile,
            "config": {
                "appid": APPID,
                "secret": SECRET,
                "publish_delay_seconds": publish_delay,
                "lost_answer_rate": lost_answer_rate,
                "fault_rate": fault_rate,
                "seed": seed,
                "quotas": quotas,
            },
        }
        args = [sys.executable, "-c", _LAUNCHER, json.dumps(settings)]
    else:
        args = [
            str(BOT),
            "simulator",
            "--port",
            str(port),
            "--appid",
            APPID,
            "--secret",
            SECRET,
            "--publish-delay",
            str(publish_delay),
            "--lost-answer-rate",
            str(lost_answer_rate),
            "--fault-rate",
            str(fault_rate),
            "--seed",
            str(seed),
            "--profile",
            profile,
        ]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            args,
            cwd=workdir,
            env=bot_env(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answers(f"{url}/_sim/state", proc, log, timeout=30)
        yield Simulator(url, proc, log)
    finally:
        kill_group(proc)


# --- a project: a directory with a config file ----------------------------------------------


def write_cover(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (470, 200), (30, 90, 160)).save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


def config_text(
    *,
    database_url: str,
    api_base: str,
    publisher: dict[str, float] | None = None,
    extra: str = "",
    quotas: dict[str, int] | None = None,
    cover: str = "",
) -> str:
    quota_lines = ["[accounts.quota]", *(f'"{k}" = {v}' for k, v in (quotas or {}).items())]
    lines = [
        "[database]",
        f'url = "{database_url}"',
        "",
        "[[accounts]]",
        'name = "main"',
        f'appid = "{APPID}"',
        f'secret_env = "{SECRET_ENV}"',
        f'api_base = "{api_base}"',
        *(quota_lines if quotas else []),
        "",
        "[[columns]]",
        f'name = "{COLUMN}"',
        'account = "main"',
        'author = "团区委"',
        *([f'cover = "{cover}"'] if cover else []),
        "",
    ]
    if publisher:
        lines.append("[publisher]")
        lines.extend(f"{key} = {value}" for key, value in publisher.items())
        lines.append("")
    return "\n".join(lines) + extra


@dataclass
class Project:
    """A directory holding config.toml (and its SQLite database unless told otherwise)."""

    root: Path
    api_base: str
    database_url: str = ""
    env: dict[str, str] = field(default_factory=bot_env)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.root / 'bot.db'}"

    @property
    def config(self) -> Path:
        return self.root / "config.toml"

    def write_config(
        self,
        publisher: dict[str, float] | None = None,
        extra: str = "",
        quotas: dict[str, int] | None = None,
        cover: str = "",
    ) -> Path:
        self.config.write_text(
            config_text(
                database_url=self.database_url,
                api_base=self.api_base,
                publisher=publisher,
                extra=extra,
                quotas=quotas,
                cover=cover,
            ),
            encoding="utf-8",
        )
        return self.config

    def run(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float = 60.0,
        stdin: str | None = None,
    ) -> Result:
        """``bot --config CONFIG ARGS`` in the project directory."""
        return run_bot(
            ["--config", str(self.config), *args],
            cwd=self.root,
            env=env if env is not None else self.env,
            timeout=timeout,
            stdin=stdin,
        )

    def run_all(self, *commands: Sequence[str], timeout: float = 60.0) -> list[Result]:
        """Several commands at once (they only read, or they are meant to race)."""
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            futures = [pool.submit(self.run, *c, timeout=timeout) for c in commands]
            return [f.result() for f in futures]

    def serve(self, port: int | None = None, *, log_name: str = "serve") -> ServeProcess:
        return ServeProcess.start(self, port or free_port(), log_name=log_name)


@dataclass
class ServeProcess:
    """``bot serve`` (not the demo) on one port; started ready, killed by ``stop``."""

    project: Project
    port: int
    proc: subprocess.Popen[Any]
    log: Path

    @classmethod
    def start(
        cls, project: Project, port: int, *, log_name: str = "serve", wait: bool = True
    ) -> ServeProcess:
        log = project.root / f"{log_name}.log"
        with log.open("ab") as sink:
            proc = subprocess.Popen(
                [str(BOT), "--config", str(project.config), "serve", "--port", str(port)],
                cwd=project.root,
                env=project.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        serve = cls(project, port, proc, log)
        if wait:
            try:
                serve.wait_ready()
            except BaseException:
                serve.stop()
                raise
        return serve

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 45.0) -> None:
        wait_until_answers(f"{self.url}/healthz", self.proc, self.log, timeout)

    def stop(self, sig: int = signal.SIGKILL) -> None:
        kill_group(self.proc, sig)

    def output(self) -> str:
        return read_text(self.log)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """One quiet simulator per test module (each module's titles are its own)."""
    with simulator_process(tmp_path_factory.mktemp("sim")) as sim:
        yield sim


@pytest.fixture
def project(tmp_path: Path, simulator: Simulator) -> Project:
    """A fresh project whose account talks to the module's simulator."""
    made = Project(tmp_path / "project", simulator.url)
    made.write_config()
    return made
