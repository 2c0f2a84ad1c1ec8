"""The app under test, as its own process (``python -m server``), so its memory is its own."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


_running: set[ServerProcess] = set()


@atexit.register
def _stop_all() -> None:
    """A benchmark that is interrupted (Ctrl-C, SIGTERM) leaves no server behind."""
    for server in list(_running):
        server.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of a process, MB; the embedded llama.cpp runs inside it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class ServerProcess:
    def __init__(
        self,
        profile: str,
        data_dir: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
        *,
        module: str = "server",
    ) -> None:
        """``module``: what ``python -m`` runs (``server``; the resilience suite runs it with
        its speech engines behind fault switches: ``bench.faulty_speech``)."""
        self.profile = profile
        self.module = module
        self.extra_env = env or {}
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss_mb: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 300) -> float:
        """Start and wait until /api/schema answers; the app's lifespan (migrations, LLM,
        speech engines) completes before uvicorn serves, so the first 200 means ready."""
        env = {
            **os.environ,
            "VIVA_DATA_DIR": str(self.data_dir),
            "VIVA_PORT": str(self.port),
            "VIVA_LLM_MODEL": self.profile,
            "VIVA_DATABASE_URL": "",
            **self.extra_env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")  # this run only: the LLM numbers are parsed from it
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            # Exactly ``python -m server``, spelled so that another tool's
            # ``pkill -f "python -m server"`` on a shared machine cannot stop it mid-run.
            [
                sys.executable,
                "-c",
                f"import runpy; runpy.run_module({self.module!r}, run_name='__main__')",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        _running.add(self)
        deadline = started + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}; see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.base_url}/api/schema", timeout=2).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server not ready in {timeout_s} s; see {self.log_path}")

    def current_peak_rss_mb(self) -> float | None:
        return vm_hwm_mb(self.proc.pid) if self.proc else None

    def stop(self) -> None:
        _running.discard(self)
        if self.proc is None or self.proc.poll() is not None:
            return
        self.peak_rss_mb = self.current_peak_rss_mb()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
