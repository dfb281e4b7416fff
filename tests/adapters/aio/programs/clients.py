"""Clients of ``server.py``, from a process of their own: three concurrent streams clients, one raw.

Usage: clients.py PORT RAW_PORT.
"""

import socket
import sys
import time

PORT, RAW_PORT = int(sys.argv[1]), int(sys.argv[2])


def connect(port):
    deadline = time.monotonic() + 30
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def drain(sock):
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


names = ["ada", "bob", "cy"]
sockets = [connect(PORT) for _ in names]
for sock, name in zip(reversed(sockets), reversed(names), strict=True):  # the last connected speaks first
    sock.sendall(name.encode() + b"\n")
    assert sock.recv(100) == b"hello " + name.encode() + b"\n"
for number, sock in enumerate(sockets):
    sock.sendall(b"x" * (number + 1) * 10)
    sock.shutdown(socket.SHUT_WR)
    assert drain(sock) == b""
    sock.close()
raw = connect(RAW_PORT)
raw.sendall(b"ping")
assert raw.recv(100) == b"raw ping"
raw.close()
