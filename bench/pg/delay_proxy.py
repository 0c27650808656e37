#!/usr/bin/python3
"""A TCP proxy on loopback that holds each direction's bytes DELAY ms (order
kept): a relay RTT of 2 x DELAY in front of a local server (smtp-sink).

    delay_proxy.py LISTEN_PORT TARGET_PORT [DELAY_MS=10]

Prints "READY <port>" when it accepts connections.  Used by bench/pg/run.sh
for the 20 ms relay (issues 13, 14).
"""
import asyncio
import sys
import time


async def pump(reader, writer, delay):
    q = asyncio.Queue()

    async def out():
        while True:
            due, data = await q.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    task = asyncio.ensure_future(out())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            q.put_nowait((time.monotonic() + delay, data))
    except ConnectionError:
        pass
    q.put_nowait((0, None))
    try:
        await task
    except ConnectionError:
        pass


async def main():
    listen, target = int(sys.argv[1]), int(sys.argv[2])
    delay = (float(sys.argv[3]) if len(sys.argv) > 3 else 10.0) / 1000

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, sw, delay), pump(sr, cw, delay))

    srv = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=512)
    print("READY", srv.sockets[0].getsockname()[1], flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
