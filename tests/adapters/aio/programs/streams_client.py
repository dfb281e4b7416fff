"""A streams client with no client library: concurrent connections to an echo server."""

import asyncio
import random
import socket
import sys

PORT = int(sys.argv[1])


async def client(i):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    for j in range(3):
        await asyncio.sleep(random.random() / 100)
        writer.write(f"client {i} line {j}\n".encode())
        await writer.drain()
        print((await reader.readline()).decode().strip())
    writer.write(b"bye\n")
    print(i, (await reader.readexactly(4)).decode().strip(), writer.get_extra_info("peername")[1] == PORT)
    writer.close()
    await writer.wait_closed()


async def main():
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo("127.0.0.1", PORT, type=socket.SOCK_STREAM)
    print("resolved", infos[0][4])
    await asyncio.gather(*(client(i) for i in range(5)))
    try:
        await asyncio.open_connection("127.0.0.1", 1)
    except OSError as exc:
        print("refused:", type(exc).__name__)


asyncio.run(main())
