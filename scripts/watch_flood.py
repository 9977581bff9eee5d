"""Issue 26, bounded streams, measured from outside: a WatchInbox flood through the gateway's HTTP face.

    python scripts/watch_flood.py STATE_DIR CERTIFICATES_DIR [--watches 1000] [--connections 20] [--hold 20]

(scripts/watch-flood.sh starts a mesh when none runs and calls this.) As nanhu, opens WATCHES WatchInbox calls
at once over CONNECTIONS HTTP/2 connections to https://localhost:7443, holds the accepted ones open HOLD
seconds reading their NDJSON, and tallies held open vs refused, by the shape of each refusal. Meanwhile, as
haining, times one cold ListInbox (new connection, TLS included) and 20 over an open connection. Samples the
gateway's and notification's VmRSS every 0.5 s (pids from STATE_DIR/mesh-state.json).

Exits 1 when either process peaks at 300 MB or more, the warm ListInbox median is 50 ms or more, more than
4 watches stay open (WatchSlots.maximumPerCaller), or a refusal is not HTTP 429 {"code":"resourceExhausted"}.
"""
import argparse
import asyncio
import collections
import json
import os
import re
import ssl
import statistics
import sys
import threading
import time

import httpx

BASE = "https://localhost:7443"
MAX_OPEN, RSS_LIMIT_MB, LIST_LIMIT_MS = 4, 300, 50

parser = argparse.ArgumentParser()
parser.add_argument("state")
parser.add_argument("certificates")
parser.add_argument("--watches", type=int, default=1000)
parser.add_argument("--connections", type=int, default=20)  # the server allows 100 streams a connection
parser.add_argument("--hold", type=float, default=20.0)
args = parser.parse_args()

instances = json.load(open(os.path.join(args.state, "mesh-state.json")))["instances"]
pids = {i["service"]: i["pid"] for i in instances if i["service"] in ("gateway", "notification")}


def rss_mb(pid, field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """Peak VmRSS of each process, read every 0.5 s until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = {name: rss_mb(pid) for name, pid in pids.items()}
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.5):
            for name, pid in pids.items():
                self.peak[name] = max(self.peak[name], rss_mb(pid))


def client(party):
    context = ssl.create_default_context(cafile=os.path.join(args.certificates, "ca.pem"))
    context.load_cert_chain(os.path.join(args.certificates, f"{party}.pem"),
                            os.path.join(args.certificates, f"{party}-key.pem"))
    # One connection per client: its streams multiplex over it.
    return httpx.AsyncClient(http2=True, verify=context, base_url=BASE, limits=httpx.Limits(max_connections=1),
                             timeout=httpx.Timeout(10.0, read=None, pool=None))


async def watch(connection, outcomes, answered, stop):
    """Records 'held' when the watch is still open at `stop`, else the shape of how it ended; adds itself to
    `answered` once it has the response head or has failed without one."""
    lines = 0
    try:
        timeout = str(int((args.hold + 60) * 1000))  # the server's deadline is well after the hold
        async with connection.stream("POST", "/v1/WatchInbox", json={}, headers={"timeout-ms": timeout}) as r:
            answered.add(asyncio.current_task())
            if r.status_code != 200:
                try:
                    body = json.loads(await r.aread())
                    code, message = body.get("code"), body.get("message", "")
                except ValueError:
                    code, message = None, "(no JSON body)"
                outcomes.append(("refused", f"HTTP {r.status_code} code={code}", message))
                return

            async def read():
                nonlocal lines
                async for _ in r.aiter_lines():
                    lines += 1

            reader, stopped = asyncio.create_task(read()), asyncio.create_task(stop.wait())
            await asyncio.wait({reader, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not reader.done():
                reader.cancel()
                outcomes.append(("held", f"HTTP 200, {lines} notices read", ""))
                return
            reader.result()  # raises if the stream was reset
            outcomes.append(("refused", f"HTTP 200 then clean end after {lines} notices", ""))
    except httpx.HTTPError as error:
        message = re.sub(r"stream_id:\d+, ", "", str(error))  # so like refusals count together
        outcomes.append(("refused", f"HTTP 200 then {type(error).__name__} after {lines} notices", message))
    finally:
        answered.add(asyncio.current_task())


async def list_inbox(connection):
    start = time.perf_counter()
    r = await connection.post("/v1/ListInbox", json={})
    elapsed = (time.perf_counter() - start) * 1000
    if r.status_code != 200:
        raise SystemExit(f"ListInbox as haining: HTTP {r.status_code} {r.text[:200]}")
    return elapsed


async def main():
    before = {name: rss_mb(pid) for name, pid in pids.items()}
    nanhu = [client("nanhu") for _ in range(args.connections)]
    haining = client("haining")
    # Open every connection first (GET /v1 is answered by the HTTP face itself), so streams share them.
    await asyncio.gather(*(c.get("/v1") for c in nanhu + [haining]))

    sampler = Sampler()
    sampler.start()
    outcomes, answered, stop = [], set(), asyncio.Event()
    started = time.monotonic()
    tasks = [asyncio.create_task(watch(nanhu[i % len(nanhu)], outcomes, answered, stop))
             for i in range(args.watches)]
    # The flood settles once every watch is answered and none has ended for 1 s (at most 2/3 of the hold):
    # ListInbox is timed with the watches open, not during the burst of refusals.
    last, quiet = -1, 0.0
    while time.monotonic() - started < args.hold * 2 / 3:
        await asyncio.sleep(0.25)
        quiet = quiet + 0.25 if len(outcomes) == last else 0.0
        last = len(outcomes)
        if len(answered) == args.watches and quiet >= 1.0:
            break
    settled = time.monotonic() - started

    cold_connection = client("haining")
    cold = await list_inbox(cold_connection)
    await cold_connection.aclose()
    warm = [await list_inbox(haining) for _ in range(20)]

    await asyncio.sleep(max(0.0, started + args.hold - time.monotonic()))
    stop.set()
    await asyncio.gather(*tasks)
    for c in nanhu + [haining]:
        await c.aclose()
    await asyncio.sleep(2)  # let the gateway and notification drop what the streams held
    sampler.done.set()
    sampler.join()
    after = {name: rss_mb(pid) for name, pid in pids.items()}
    hwm = {name: rss_mb(pid, "VmHWM") for name, pid in pids.items()}

    print(f"\nWatchInbox flood: {args.watches} watches as nanhu over {args.connections} HTTP/2 connections, "
          f"held {args.hold:.0f} s (refusals settled after {settled:.1f} s)")
    print(f"{'process':<14}{'before MB':>11}{'peak MB':>11}{'after MB':>11}{'VmHWM MB':>11}")
    for name in ("gateway", "notification"):
        print(f"{name:<14}{before[name]:>11.1f}{sampler.peak[name]:>11.1f}{after[name]:>11.1f}{hwm[name]:>11.1f}")
    held = [o for o in outcomes if o[0] == "held"]
    refused = [o for o in outcomes if o[0] == "refused"]
    print(f"\nheld open: {len(held)}   refused: {len(refused)}   (of {len(outcomes)})")
    for (kind, shape, message), count in collections.Counter(outcomes).most_common():
        print(f"  {count:>5} × {kind:<8} {shape}" + (f": {message[:160]}" if message else ""))
    print(f"\nListInbox as haining: cold {cold:.1f} ms; warm (20, open connection) "
          f"median {statistics.median(warm):.1f} ms, max {max(warm):.1f} ms")

    failures = [f"{name} peaked at {mb:.0f} MB (limit {RSS_LIMIT_MB})" for name, mb in sampler.peak.items()
                if mb >= RSS_LIMIT_MB]
    if statistics.median(warm) >= LIST_LIMIT_MS:
        failures.append(f"ListInbox median {statistics.median(warm):.1f} ms (limit {LIST_LIMIT_MS})")
    if len(held) > MAX_OPEN:
        failures.append(f"{len(held)} watches held open (at most {MAX_OPEN})")
    odd = [o for o in refused if not o[1].startswith("HTTP 429 code=resourceExhausted")]
    if odd:
        failures.append(f"{len(odd)} refusals not HTTP 429 resourceExhausted (first: {odd[0][1]})")
    print("\n" + ("FAIL:\n  " + "\n  ".join(failures) if failures else "PASS"))
    return 1 if failures else 0


sys.exit(asyncio.run(main()))
