"""The two systems that bench/load.py measures, each started alone: the vanilla ``rasa init`` bot
(REST channel) and the project (action server + Rasa + gateway, through ``tests/e2e/stack.py``).

The vanilla bot is Rasa's own ``initial_project`` template, trained with the project's
``.venv-rasa`` in a temporary folder; the trained model is cached by a fingerprint of the template
and the Rasa version under ``~/.cache/lumen-support/vanilla`` so reruns do not retrain.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.stack import ROOT, free_port, stop_session

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
CACHE = Path(os.environ.get("LUMEN_CACHE_DIR", Path.home() / ".cache" / "lumen-support")) / "vanilla"
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "ignore::DeprecationWarning",
}


@dataclass
class Running:
    """A started system: where to talk to it, its process session and how long it took to be ready."""

    name: str
    url: str
    session_id: int
    ready_s: float
    pids: dict[str, int] = field(default_factory=dict)  # role -> pid (for the profiler)
    startup: list[str] = field(default_factory=list)  # the start script's "[start] ..." lines


def session_pids(session_id: int) -> list[int]:
    """Every live process whose session is ``session_id`` (the system's whole process tree)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:
            pids.append(int(entry.name))
    return pids


def rss_mb(session_id: int) -> float:
    """Sum of the resident memory (VmRSS) of all the system's processes, in MB."""
    total = 0
    for pid in session_pids(session_id):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def find_pid(session_id: int, marker: str) -> int | None:
    for pid in session_pids(session_id):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode():
                return pid
        except OSError:
            continue
    return None


def _template() -> Path:
    out = subprocess.run(
        [str(RASA_PY), "-c", "import rasa.cli, os; print(os.path.dirname(rasa.cli.__file__))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return Path(out) / "initial_project"


def vanilla_model(log=print) -> Path:
    """The trained ``rasa init`` model, from the cache or trained now (about 3 min on 2 cores)."""
    template = _template()
    digest = hashlib.sha256()
    for path in sorted(p for p in template.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(template)).encode() + b"\0" + path.read_bytes())
    digest.update(str(template).encode())  # the Rasa version lives in the site-packages path's package
    digest.update(
        subprocess.run(
            [str(RASA_PY), "-c", "import rasa; print(rasa.__version__)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.encode()
    )
    fingerprint = digest.hexdigest()[:16]
    cached = CACHE / f"{fingerprint}.tar.gz"
    if cached.exists():
        log(f"vanilla model {fingerprint} from {CACHE}")
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vanilla-rasa-") as tmp:
        project = Path(tmp) / "bot"
        shutil.copytree(template, project, ignore=shutil.ignore_patterns("__pycache__"))
        log(f"training the vanilla rasa init bot in {project} (first run only)")
        started = time.monotonic()
        subprocess.run(
            [str(RASA_PY), "-m", "rasa", "train", "--out", "models", "--fixed-model-name", "vanilla"],
            cwd=project,
            env={**os.environ, **QUIET_ENV},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        log(f"trained in {time.monotonic() - started:.0f} s")
        tmp_target = cached.with_suffix(".tmp")
        shutil.copy(project / "models" / "vanilla.tar.gz", tmp_target)
        tmp_target.rename(cached)
    return cached


def _wait_http(url: str, proc: subprocess.Popen, limit_s: float, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + limit_s
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"not ready: {url} (exit code {proc.poll()})\n" + log_path.read_text()[-2000:])
        time.sleep(0.25)


def alive(running: Running) -> bool:
    """Every process the system started at first is still there (another user's cleanup may kill it)."""
    return all(Path(f"/proc/{pid}").exists() for pid in running.pids.values())


@contextmanager
def vanilla(model: Path, work: Path) -> Iterator[Running]:
    """``rasa run`` of the vanilla model with its REST channel, on a free loopback port."""
    port = free_port()
    project = work / "vanilla"
    project.mkdir(parents=True, exist_ok=True)
    (project / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    log_path = ROOT / "var" / "bench" / "vanilla.log"  # kept: the reason when it stops early
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            str(RASA_PY),
            "-m",
            "rasa",
            "run",
            "--model",
            str(model),
            "--enable-api",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "--credentials",
            "credentials.yml",
        ],
        cwd=project,
        env={**os.environ, **QUIET_ENV},
        start_new_session=True,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/status", proc, 400, log_path)
        yield Running("vanilla", url, proc.pid, time.monotonic() - started, {"rasa": proc.pid})
    finally:
        stop_session(proc)


@contextmanager
def project(work: Path) -> Iterator[Running]:
    """The project's real stack on a fresh SQLite CRM (``bench/convsim/run.py``'s environment)."""
    from bench.convsim.run import bench_stack

    with bench_stack(work / "project") as stack:
        sid = stack.session_id
        pids = {
            role: find_pid(sid, marker)
            for role, marker in (
                ("rasa", "bot.rasa_launch"),
                ("actions", "bot.action_server"),
                ("gateway", "gateway"),
            )
        }
        out = work / "project" / "services.out"
        startup = [
            line.split("[start] ", 1)[1] for line in out.read_text().splitlines() if "[start] " in line
        ]
        yield Running(
            "project",
            stack.ws_url,
            sid,
            stack.ready_s,
            {k: v for k, v in pids.items() if v is not None},
            startup,
        )
