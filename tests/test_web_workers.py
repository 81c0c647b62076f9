"""`serve --workers N`: each worker's own listening socket (web/workers.py)."""

from __future__ import annotations

import socket

from tracelight.web.workers import listening_socket


def test_worker_sockets_are_tcp_without_nagle() -> None:
    """asyncio turns Nagle off only on connections whose socket says TCP: a socket made with
    proto 0 left every answer waiting ~40 ms for the client's delayed ACK."""
    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) != 0
        port = sock.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        conn, _addr = sock.accept()
        try:
            assert conn.proto == socket.IPPROTO_TCP  # what asyncio's _set_nodelay asks
        finally:
            conn.close()
            client.close()
    finally:
        sock.close()
