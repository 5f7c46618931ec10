"""`kartoteka drop serve` as a real process on a free loopback port."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CODENAME = re.compile(r'<p class="codename">([a-z -]+)</p>')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServedDrop:
    def __init__(self, drop: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "kartoteka.cli", "drop", "serve", "--drop", str(drop), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.proc.stderr.read() if self.proc.stderr else "drop died") from None
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("the drop did not start")

    def stop(self) -> tuple[str, str]:
        """Stop it (SIGTERM) and return what it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out, err

    def new_codename(self, client: httpx.Client) -> str:
        r = client.post(self.url + "/codename")
        assert r.status_code == 200
        m = CODENAME.search(r.text)
        assert m, r.text
        return m.group(1)
