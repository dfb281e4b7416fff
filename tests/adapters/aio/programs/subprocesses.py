"""Children started with asyncio: lines read as they come, an exit status, communicate()."""

import asyncio
import sys

MARKER = sys.argv[1]
CHILD = f"""
import sys, time
open({MARKER!r}, "a").write("started\\n")
for k in range(3):
    print(sys.argv[1], k, flush=True)
    time.sleep(0.01 * int(sys.argv[1]))
"""


async def lines(i):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(i), stdout=asyncio.subprocess.PIPE
    )
    async for line in proc.stdout:
        print("child", i, "said", line.decode().strip())
    print("child", i, "exit", await proc.wait(), proc.returncode)


async def main():
    await asyncio.gather(*(lines(i) for i in range(3)))
    proc = await asyncio.create_subprocess_shell(
        "cat; echo err >&2; exit 3",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    print(await proc.communicate(b"hello"), proc.returncode)


asyncio.run(main())
