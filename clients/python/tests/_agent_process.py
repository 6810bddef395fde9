"""Starts a real keyshift agent (node + tsx from this repository) for the tests."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, Optional

REPO = Path(__file__).resolve().parents[3]


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class AgentProcess:
    """`keyshift agent` over a file source in a temporary directory; values are rotated by
    rewriting the source files."""

    def __init__(self, values: Dict[str, str], entries: Dict[str, dict], extra: Optional[dict] = None) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="keyshift-agent-py-")
        root = Path(self.tmp.name)
        self.source_dir = root / "source"
        self.source_dir.mkdir()
        for name, value in values.items():
            write_atomic(self.source_dir / name, value)
        self.socket = str(root / "agent.sock")
        self.files_dir = root / "files"
        config = {
            "name": "python-client-test",
            "source": {"kind": "file", "dir": str(self.source_dir)},
            "entries": entries,
            "api": {"socket": self.socket},
            "files": {"dir": str(self.files_dir)},
        }
        config.update(extra or {})
        self.config_path = root / "agent.json"
        self.config_path.write_text(json.dumps(config))
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.proc: Optional[subprocess.Popen[str]] = None

    def start(self, timeout: float = 120.0) -> "AgentProcess":
        env = {**os.environ, "NODE_OPTIONS": "--import tsx"}
        self.proc = subprocess.Popen(
            ["node", str(REPO / "src" / "cli" / "main.ts"), "agent", "--config", str(self.config_path)],
            cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("the agent did not become ready:\n" + "\n".join(self.lines[-20:]))
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "keyshift agent: ready" in line:
                self._ready.set()
        self._ready.set()

    def put(self, name: str, value: str) -> None:
        write_atomic(self.source_dir / name, value)

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self) -> int:
        code = -1
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                code = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait()
        elif self.proc is not None:
            code = self.proc.returncode
        self.tmp.cleanup()
        return code


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
