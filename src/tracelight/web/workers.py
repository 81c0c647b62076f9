"""`tracelight serve --workers N`: N server processes, each listening on the same address with
its own socket (SO_REUSEPORT), so the kernel spreads new connections across them.

uvicorn's own supervisor hands one shared listening socket to every worker, and the first
worker to wake accepts every connection waiting (asyncio accepts up to the backlog in one go):
a platform's pool of keep-alive connections, opened together, then lands on one worker while
the other idles (`tracelight bench check` measured 3.9 CPU-seconds on one worker and 0.5 on
the other). With a socket per worker the kernel balances connections by their addresses.
Linux only lets processes of the same user join one SO_REUSEPORT group, so no other user's
program can take connections. Where the platform has no SO_REUSEPORT, uvicorn's supervisor
is used as before.

The parent only supervises: it restarts a worker that dies (unless it died while starting,
then everything stops with its exit code), and on SIGINT or SIGTERM stops the workers
gracefully (each runs its app's shutdown: refresher and webhook threads stopped).
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
import time
from typing import Any

STARTUP_SECONDS = 20.0  # a worker that dies sooner failed to start: do not restart it
APP = "tracelight.web.app:app_from_env"


def reuse_port_supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port that other workers of this user may share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on connections
    # whose socket says TCP; with Nagle on, a response's body waits for the client's
    # delayed ACK of its headers (~40 ms an answer)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn
    sock = listening_socket(host, port)
    config = uvicorn.Config(APP, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Serve with `workers` processes until SIGINT/SIGTERM; the exit code (0: stopped)."""
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> tuple[Any, float]:
        proc = spawn.Process(target=_worker, args=(host, port, options), daemon=False)
        proc.start()
        return proc, time.monotonic()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    procs = [start() for _ in range(workers)]
    code = 0
    try:
        while not stop.wait(0.5):
            for i, (proc, started) in enumerate(procs):
                if proc.is_alive():
                    continue
                proc.join()
                if time.monotonic() - started < STARTUP_SECONDS:
                    code = proc.exitcode or 1  # it could not start: neither will the next
                    stop.set()
                    break
                procs[i] = start()
    finally:
        for proc, _started in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn shuts down gracefully
        for proc, _started in procs:
            proc.join(15)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for s, handler in old.items():
            signal.signal(s, handler)
    return code
