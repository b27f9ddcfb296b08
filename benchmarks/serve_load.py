"""Load on `hotpapers serve`: wrk against the API's rankings, the board and a paper page
(warm cache), and against a minimal FastAPI app returning a constant 30-item JSON body
(the ceiling of this stack on this machine), in the same run with the same worker count.

Not a test and not run in CI. Needs wrk (Debian: apt-get install wrk).

    python benchmarks/serve_load.py --store /tmp/scale.sqlite3          # an existing store
    python benchmarks/serve_load.py --mentions 50000 --days 30          # built first
    python benchmarks/serve_load.py --store S --connections 64 --seconds 20 --workers 1

1. The store: `--store PATH` (SQLite) or `--db URL` as it is; else the scale generator
   (`python -m hotpapers.jobs.synthetic --days D --mentions N`) writes one under --cache.
2. The cold ranking: the first `/api/v1/rankings?window=week` of a fresh server, timed
   (its ranking is made then; later requests read the cache).
3. For each target (the ceiling app first, then the API, the board, a paper page), a
   fresh server on a free loopback port, one warm-up request, then `wrk -c C -d S -t 2
   --latency`; requests/s, p50, p99 and non-2xx/socket errors read from its report.

The last line:
`serve_load api_rps=... api_p99_ms=... board_rps=... board_p99_ms=... errors=... ceiling_rps=...`
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CEILING_APP = '''
from fastapi import FastAPI
from fastapi.responses import Response
import orjson
BODY = orjson.dumps({"papers": [{"rank": i, "id": f"2601.{i:05d}", "title": "A paper title",
                                 "score": 1.5} for i in range(30)]})
app = FastAPI()

@app.get("/")
def constant() -> Response:
    return Response(BODY, media_type="application/json")
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            process.log.seek(0)
            raise SystemExit(f"the server stopped: {process.log.read()[-2000:]}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"no answer from {url}")


def start(command: list[str], port: int, env: dict | None = None) -> subprocess.Popen:
    # stderr to a file: an unread pipe fills up with access-log lines and stops the server
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (open as long as the server runs)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, text=True,
                               env=env)
    process.log = log  # type: ignore[attr-defined]
    wait_for(f"http://127.0.0.1:{port}/healthz", process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, connections: int, seconds: int) -> dict:
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"\s50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(bad.group(1)) if bad else 0
    return {"rps": rps, "p50": _ms(*p50.groups()), "p99": _ms(*p99.groups()),
            "errors": errors}


def store_url(args) -> str:
    if args.db:
        return args.db
    if args.store:
        return f"sqlite:///{Path(args.store).resolve()}"
    path = Path(args.cache) / f"serve-{args.mentions}-{args.days}.sqlite3"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "hotpapers.jobs.synthetic", "--days",
                        str(args.days), "--mentions", str(args.mentions), "--db",
                        f"sqlite:///{path}"], check=True)
    return f"sqlite:///{path}"


def serve(url: str, port: int, workers: int) -> subprocess.Popen:
    return start([sys.executable, "-m", "hotpapers", "--db", url, "serve", "--port",
                  str(port), "--workers", str(workers)], port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="an existing SQLite store")
    parser.add_argument("--db", help="an existing store's URL")
    parser.add_argument("--mentions", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "hotpapers-bench"))
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    url = store_url(args)
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "ceiling_app.py").write_text(CEILING_APP)
        port = free_port()
        process = start([sys.executable, "-m", "uvicorn", "--app-dir", folder, "--port",
                         str(port), "--workers", str(args.workers), "--no-access-log",
                         "--log-level", "warning", "ceiling_app:app"], port)
        try:
            figures["ceiling"] = wrk(f"http://127.0.0.1:{port}/", args.connections,
                                     args.seconds)
        finally:
            stop(process)
    port = free_port()
    process = serve(url, port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        first = httpx.get(f"{base}/api/v1/rankings?window=week", timeout=600).json()
        cold = time.perf_counter() - started
        paper = first["papers"][0]["id"]
        targets = {"api": "/api/v1/rankings?window=week", "board": "/",
                   "paper": f"/papers/{paper}"}
        for name, path in targets.items():
            httpx.get(base + path, timeout=600)  # warm: the cache holds it
            figures[name] = wrk(base + path, args.connections, args.seconds)
    finally:
        stop(process)
    for name, found in figures.items():
        print(f"{name:8} {found['rps']:9.1f} req/s  p50 {found['p50']:7.1f} ms  "
              f"p99 {found['p99']:7.1f} ms  errors {found['errors']}")
    ceiling = figures["ceiling"]
    print(f"cold week ranking: {cold:.3f} s; api {figures['api']['rps'] / ceiling['rps']:.2f}x "
          f"the ceiling's req/s, p99 {figures['api']['p99'] / ceiling['p99']:.2f}x; board "
          f"{figures['board']['rps'] / ceiling['rps']:.2f}x, p99 "
          f"{figures['board']['p99'] / ceiling['p99']:.2f}x")
    errors = sum(f["errors"] for n, f in figures.items() if n != "ceiling")
    print(f"serve_load api_rps={figures['api']['rps']:.0f} "
          f"api_p99_ms={figures['api']['p99']:.1f} board_rps={figures['board']['rps']:.0f} "
          f"board_p99_ms={figures['board']['p99']:.1f} errors={errors} "
          f"ceiling_rps={ceiling['rps']:.0f} cold_s={cold:.3f}")


if __name__ == "__main__":
    main()
