"""A streams server and a ``loop.sock_accept`` listener inside the recorded program.

Usage: server.py PORT RAW_PORT. ``clients.py`` (another process) connects
three times to PORT and once to RAW_PORT; replay has no client at all.
"""

import asyncio
import socket
import sys

PORT, RAW_PORT = int(sys.argv[1]), int(sys.argv[2])


async def raw(loop):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", RAW_PORT))
    listener.listen()
    listener.setblocking(False)
    connection, address = await loop.sock_accept(listener)
    data = await loop.sock_recv(connection, 100)
    await loop.sock_sendall(connection, b"raw " + data)
    print("raw", data, address[0])
    connection.close()
    listener.close()


async def main():
    loop = asyncio.get_running_loop()
    served = []
    done = asyncio.Event()

    async def handle(reader, writer):
        peer = writer.get_extra_info("peername")
        line = await reader.readline()
        writer.write(b"hello " + line)
        await writer.drain()
        rest = await reader.read()
        served.append(line.strip().decode())
        print(f"client {line.strip().decode()} sent {len(rest)} more bytes from {peer[0]}")
        writer.close()
        await writer.wait_closed()
        if len(served) == 3:
            done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    print("serving on", server.sockets[0].getsockname(), server.is_serving())
    raw_task = asyncio.create_task(raw(loop))
    async with server:
        forever = asyncio.create_task(server.serve_forever())
        await done.wait()
        forever.cancel()
        try:
            await forever
        except asyncio.CancelledError:
            print("stopped serving")
    print("closed", server.is_serving(), "served", served)
    await raw_task


asyncio.run(main())
