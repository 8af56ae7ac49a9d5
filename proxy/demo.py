"""`make demo`: the sandbox provider, the legacy demo site and the proxy in front of it.

Three processes, started in that order and each waited for: `dni-edge sandbox`
(in memory, on 127.0.0.1:8090), the demo site (`proxy.demo_site`, on
127.0.0.1:8000) and `dni-edge run` with the repository's `config.toml` (on
127.0.0.1:8080). The URLs are printed; Ctrl-C stops all three.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ("127.0.0.1", 8090)
SITE = ("127.0.0.1", 8000)
PROXY = ("127.0.0.1", 8080)
START_TIMEOUT = 20.0

PAGES = (
    ("/", "home page: numbers in several formats, written directly"),
    ("/contact", "contact page: click display (reveal buttons)"),
    ("/legacy", "windows-1252 page, shared pool with a code"),
    ("/offres", "a page the site sends gzip-compressed"),
    ("/logo.png", "an image (passes through)"),
    ("/api/agences.json", "a JSON API (passes through)"),
)


def _start(name: str, args: Sequence[str]) -> subprocess.Popen[bytes]:
    print(f"starting {name}: {' '.join(args)}", flush=True)
    return subprocess.Popen([sys.executable, *args], cwd=ROOT)


def _wait_listening(name: str, address: tuple[str, int], process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with status {process.returncode}")
        try:
            with socket.create_connection(address, timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} is not listening on {address[0]}:{address[1]}")


def _busy(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _banner() -> str:
    proxy = f"http://{PROXY[0]}:{PROXY[1]}"
    lines = [
        "",
        "dni-edge demo is running. Open the site through the proxy:",
        *(f"  {proxy}{path:<20} {what}" for path, what in PAGES),
        "",
        f"  the site itself (original numbers): http://{SITE[0]}:{SITE[1]}/",
        f"  the sandbox's records:              http://{SANDBOX[0]}:{SANDBOX[1]}/sandbox/views",
        f"  proxy metrics:                      {proxy}/__dni/metrics",
        "",
        "Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)


def main() -> int:
    for name, address in (("sandbox", SANDBOX), ("demo site", SITE), ("proxy", PROXY)):
        if _busy(address):
            print(f"{address[0]}:{address[1]} ({name}) is already in use", file=sys.stderr)
            return 1
    steps = (
        ("sandbox", SANDBOX, ("-m", "proxy", "sandbox", "--db", ":memory:")),
        ("demo site", SITE, ("-m", "proxy.demo_site", "--port", str(SITE[1]))),
        ("proxy", PROXY, ("-m", "proxy", "run", "--config", str(ROOT / "config.toml"))),
    )
    processes: list[subprocess.Popen[bytes]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: it may start ignored
        signal.signal(sig, _interrupt)
    try:
        for name, address, args in steps:
            processes.append(_start(name, args))
            _wait_listening(name, address, processes[-1])
        print(_banner(), flush=True)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        print("a demo process stopped; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        _stop(processes)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
