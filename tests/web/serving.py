"""`cicie serve --no-worker` as a real process, for the web tests that must see what uvicorn
and the whole middleware stack do (bodies on the wire, memory, client addresses). Built on the
fault tests' `Spawner` (a test module makes its own `spawn` fixture): each process has a home
of its own and the test's database."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.faults.conftest import Proc, Spawner
from tests.faults.invariants import free_port


@dataclass
class Served:
    url: str
    proc: Proc

    def memory_kib(self, field: str = "VmHWM") -> int:
        """A size from /proc/<pid>/status: `VmHWM` is the peak resident set so far, which a
        body held even briefly raises for good (`VmRSS` can fall back once it is freed)."""
        status = Path(f"/proc/{self.proc.popen.pid}/status").read_text(encoding="ascii")
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.proc.popen.pid}/status")


def serve(spawn: Spawner, database_url: str, name: str = "serve", **settings: object) -> Served:
    """Start `cicie serve --no-worker` on a free loopback port and wait until it is ready."""
    port = free_port()
    env = spawn.env(database_url, **settings)
    proc = spawn.start(name, "serve", "--no-worker", "--port", str(port), env=env)
    url = f"http://127.0.0.1:{port}"

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return Served(url, proc)
        except httpx.TransportError:
            pass
        if not proc.alive() or time.monotonic() > deadline:
            raise AssertionError(f"{name} never answered on {url}:\n{proc.output()[-3000:]}")
        time.sleep(0.1)
