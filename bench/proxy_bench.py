"""The proxy benchmark: wrk on loopback against the upstream, a pass-through baseline and dni-edge.

    python -m bench.proxy_bench [--duration 5] [--quick]

In one go, with every server in its own process: the upstream (an aiohttp app
serving generated pages from memory), `bench/passthrough.py` (the baseline),
and `dni-edge run` rewriting a 100 KB page with 5 numbers, its provider the
sandbox in memory answering at once and then after 20 ms (its latency fault).
The proxies under test run on cpu 1; wrk, the upstream and the sandbox on cpu 0
(as in perf-anchors.md). A second dni-edge keeps no scan plans (`scan_cache_bytes = 0`),
so every view scans the page, as a page that changes per request would be. The
baseline and the two dni-edge alternate for three rounds, as
this machine's speed drifts by tens of percent from one minute to the next; the
throughput ratio is the median of the within-round ratios (perf-anchors.md's
method). With the provider 20 ms away, 32 connections cap any proxy at 32 / 0.020 s
= 1,600 req/s whatever its CPU, so that case also runs at 128 connections.
Printed: req/s, p50, p99 and CPU per request of every run, the ratios to the
baseline, the added p50 over the upstream at 4 connections with the provider's own
time taken out, and dni-edge's peak RSS at 256 connections on 1 MB pages; then the
targets, PASS or FAIL. Takes about 110 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.pages import ORIGINALS, generate

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
DEMO_KEY = "osp_test_demo_key"
SUT_CPU, OTHER_CPU = "1", "0"
TARGET_RATIO = 0.33
TARGET_ADDED_P50_MS = 2.0
TARGET_RSS_MB = 150.0
PAGE = "/p100k"
UNKEPT = "dni-edge 0ms, scanned"
"""dni-edge with `scan_cache_bytes = 0`: every view scans the page, as one that changes per
request would be."""
ROUNDS = 3

CONFIG = """
[server]
listen = "127.0.0.1:{port}"
upstream = "{upstream}"
rewrite_max_bytes = "4MiB"
scan_cache_bytes = "{scan_cache}"
max_connections = 2048

[providers.optico]
kind = "optico"
url = "{sandbox}"
api_key_env = "BENCH_OPTICO_KEY"
max_concurrency = 256

[[rules]]
name = "site"
paths = ["*"]
phones = {phones}
"""


@dataclass
class Result:
    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_share: float = 0.0
    """Share of one core the server under test used during the run."""

    @property
    def cpu_ms(self) -> float:
        """CPU time of the server under test per request."""
        return self.cpu_share * 1000 / self.rps if self.rps else 0.0

    @property
    def capacity(self) -> float:
        """Requests per second the server would serve with its core to itself and busy."""
        return self.rps / self.cpu_share if self.cpu_share else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: str, args: Sequence[str]) -> list[str]:
    return ["taskset", "-c", cpu, *args] if shutil.which("taskset") else list(args)


@contextmanager
def process(args: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    """Start a server process, wait until it accepts connections, stop it afterwards."""
    proc = subprocess.Popen(
        list(args),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{args} exited with {proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{args} is not listening on {port}") from None
                time.sleep(0.05)
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_upstream(port: int) -> None:
    """The upstream: generated pages from memory, as a fast static origin would send them."""
    import uvloop
    from aiohttp import web

    pages = {"/p100k": generate(100_000), "/p1m": generate(1_000_000)}

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=pages[request.path], content_type="text/html", charset="utf-8")

    app = web.Application()
    for path in pages:
        app.router.add_get(path, page)
    loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, loop=loop)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    name: str, pid: int, url: str, connections: int, duration: float, headers: Sequence[str]
) -> Result:
    """wrk against `url`, with the CPU the process `pid` spent meanwhile."""
    cpu, wall = cpu_seconds(pid), time.monotonic()
    result = wrk(name, url, connections, duration, headers)
    result.cpu_share = (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
    return result


def wrk(name: str, url: str, connections: int, duration: float, headers: Sequence[str]) -> Result:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(
        pinned(OTHER_CPU, [*args, url]), capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]

    def percentile(p: str) -> float:
        found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert found is not None, out
        return float(found[1]) * _UNITS[found[2]]

    if "Non-2xx" in out or "Socket errors" in out:
        print(f"  ! {name}: {out.strip().splitlines()[-3]}", file=sys.stderr)
    return Result(name, connections, rps, percentile("50"), percentile("99"))


def provider_seconds(proxy: str) -> tuple[float, float]:
    """(sum, count) of dni-edge's ospView latency histogram."""
    text = urllib.request.urlopen(f"{proxy}/__dni/metrics", timeout=5).read().decode()
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith("dni_provider_latency_seconds_") and 'endpoint="ospView"' in line:
            value = float(line.rsplit(" ", 1)[1])
            if line.startswith("dni_provider_latency_seconds_sum"):
                total += value
            elif line.startswith("dni_provider_latency_seconds_count"):
                count += value
    return total, count


def visit_cookies(proxy: str, upstream: str) -> str:
    """One page view through dni-edge: the visit's cookies, so every request continues it."""
    request = urllib.request.Request(f"{proxy}/p100k", headers={"User-Agent": UA})
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
        cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or []]
    original = urllib.request.urlopen(f"{upstream}/p100k", timeout=5).read()
    changed = sum(a != b for a, b in zip(body, original, strict=False))
    if len(body) != len(original) or not 0 < changed <= 5 * 10:
        raise RuntimeError("dni-edge did not rewrite the page's five numbers")
    return "; ".join(cookies)


def set_latency(sandbox: str, latency_ms: int) -> None:
    body = json.dumps({"latency_ms": latency_ms, "endpoints": ["ospView"]}).encode()
    request = urllib.request.Request(
        f"{sandbox}/sandbox/faults", data=body, headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=5).read()


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024  # type: ignore[index]


def peak_rss_under_load(pid: int, url: str, duration: float, headers: Sequence[str]) -> float:
    args = ["wrk", "-t1", "-c256", f"-d{duration:g}s", "--timeout", "10s"]
    for header in headers:
        args += ["-H", header]
    load = subprocess.Popen(pinned(OTHER_CPU, [*args, url]), stdout=subprocess.DEVNULL)
    peak = rss_mb(pid)
    while load.poll() is None:
        peak = max(peak, rss_mb(pid))
        time.sleep(0.05)
    return peak


def run(duration: float) -> list[str]:
    py = sys.executable
    ports = {name: free_port() for name in ("upstream", "sandbox", "baseline", "dni", "unkept")}
    upstream = f"http://127.0.0.1:{ports['upstream']}"
    sandbox = f"http://127.0.0.1:{ports['sandbox']}"
    baseline = f"http://127.0.0.1:{ports['baseline']}"
    dni = f"http://127.0.0.1:{ports['dni']}"
    unkept = f"http://127.0.0.1:{ports['unkept']}"
    workdir = Path(tempfile.mkdtemp(prefix="dni-bench-"))
    phones = json.dumps(list(ORIGINALS))
    configs = {}
    for name, scan_cache in (("dni", "8MiB"), ("unkept", "0")):
        configs[name] = workdir / f"{name}.toml"
        configs[name].write_text(
            CONFIG.format(
                port=ports[name],
                upstream=upstream,
                sandbox=sandbox,
                phones=phones,
                scan_cache=scan_cache,
            )
        )
    browser = [f"User-Agent: {UA}"]
    with (
        process(
            pinned(
                OTHER_CPU,
                [py, "-m", "bench.proxy_bench", "--upstream-server", str(ports["upstream"])],
            ),
            ports["upstream"],
        ) as upstream_pid,
        process(
            pinned(
                OTHER_CPU,
                [py, "-m", "proxy", "sandbox", "--db", ":memory:", "--port", str(ports["sandbox"])],
            ),
            ports["sandbox"],
        ),
        process(
            pinned(
                SUT_CPU,
                [
                    py,
                    "-m",
                    "bench.passthrough",
                    "--listen",
                    f"127.0.0.1:{ports['baseline']}",
                    "--upstream",
                    upstream,
                ],
            ),
            ports["baseline"],
        ) as baseline_pid,
        process(
            pinned(SUT_CPU, [py, "-m", "proxy", "run", "--config", str(configs["dni"])]),
            ports["dni"],
            env={"BENCH_OPTICO_KEY": DEMO_KEY},
        ) as dni_pid,
        process(
            pinned(SUT_CPU, [py, "-m", "proxy", "run", "--config", str(configs["unkept"])]),
            ports["unkept"],
            env={"BENCH_OPTICO_KEY": DEMO_KEY},
        ) as unkept_pid,
    ):
        headers = [*browser, f"Cookie: {visit_cookies(dni, upstream)}"]
        unkept_headers = [*browser, f"Cookie: {visit_cookies(unkept, upstream)}"]
        results: list[Result] = []
        added: dict[str, float] = {}

        def dni_edge(latency: int, connections: int) -> Result:
            set_latency(sandbox, latency)
            before = provider_seconds(dni)
            name = f"dni-edge {latency}ms"
            result = measure(name, dni_pid, dni + PAGE, connections, duration, headers)
            after = provider_seconds(dni)
            calls = max(after[1] - before[1], 1)
            added[f"{name} c{connections}"] = (after[0] - before[0]) / calls * 1000
            return result

        results.append(measure("upstream", upstream_pid, upstream + PAGE, 32, duration, headers))
        # The throughput ratio: baseline and dni-edge alternate, ROUNDS times each, so that
        # both see the same machine; the medians are compared.
        for _ in range(ROUNDS):
            results.append(
                measure("baseline", baseline_pid, baseline + PAGE, 32, duration, headers)
            )
            results.append(dni_edge(0, 32))
            results.append(measure(UNKEPT, unkept_pid, unkept + PAGE, 32, duration, unkept_headers))
        results.append(dni_edge(20, 32))
        results.append(dni_edge(20, 128))
        for target, pid, url in (
            ("upstream", upstream_pid, upstream),
            ("baseline", baseline_pid, baseline),
        ):
            results.append(measure(target, pid, url + PAGE, 4, duration, headers))
        results.append(dni_edge(0, 4))
        set_latency(sandbox, 0)
        idle = rss_mb(dni_pid)
        peak = peak_rss_under_load(dni_pid, f"{dni}/p1m", duration, headers)
    return report(results, added, idle, peak)


def median_of(results: list[Result], name: str, connections: int) -> Result:
    runs = sorted(
        (r for r in results if r.name == name and r.connections == connections),
        key=lambda r: r.rps,
    )
    return runs[len(runs) // 2]


def within_rounds(
    results: list[Result], name: str, baselines: list[float]
) -> tuple[float, list[float]]:
    """The median of `name`'s req/s over the baseline's in the same round, and each ratio."""
    ours = [r.rps for r in results if r.name == name and r.connections == 32]
    ratios = sorted(d / b for d, b in zip(ours, baselines, strict=True))
    return ratios[len(ratios) // 2], ratios


def report(
    results: list[Result], provider_ms: dict[str, float], idle: float, peak: float
) -> list[str]:
    lines = [
        "| target | conns | req/s | p50 ms | p99 ms | provider ms | server CPU % | CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        provider = provider_ms.get(f"{r.name} c{r.connections}")
        cells = (
            r.name,
            str(r.connections),
            f"{r.rps:,.0f}",
            f"{r.p50_ms:.2f}",
            f"{r.p99_ms:.2f}",
            f"{provider:.2f}" if provider is not None else "",
            f"{r.cpu_share * 100:.0f}",
            f"{r.cpu_ms:.2f}",
        )
        lines.append(f"| {' | '.join(cells)} |")
    base = median_of(results, "baseline", 32)
    dni0 = median_of(results, "dni-edge 0ms", 32)
    rounds = [r.rps for r in results if r.name == "baseline" and r.connections == 32]
    ratio, ratios = within_rounds(results, "dni-edge 0ms", rounds)
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    lines.append("")
    lines.append(
        f"dni-edge (provider 0 ms) / baseline req/s at 32 conns, median of {len(ratios)} "
        f"within-round ratios: {ratio:.2f}x (target >= {TARGET_RATIO}x) {verdict}; rounds: "
        f"{', '.join(f'{r:.2f}x' for r in ratios)}; CPU per request {dni0.cpu_ms:.2f} ms "
        f"against {base.cpu_ms:.2f} ms (medians)"
    )
    scanned, scanned_rounds = within_rounds(results, UNKEPT, rounds)
    lines.append(
        f"the same with every view scanned (scan_cache_bytes = 0, as a page that changes "
        f"per request): {scanned:.2f}x; rounds: "
        f"{', '.join(f'{r:.2f}x' for r in scanned_rounds)}; CPU per request "
        f"{median_of(results, UNKEPT, 32).cpu_ms:.2f} ms"
    )
    for connections in (32, 128):
        dni20 = median_of(results, "dni-edge 20ms", connections)
        wait = provider_ms[f"dni-edge 20ms c{connections}"]
        ceiling = connections / (wait / 1000)
        ratio = dni20.rps / base.rps
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        lines.append(
            f"dni-edge (provider 20 ms) at {connections} conns: {ratio:.2f}x the baseline "
            f"(target >= {TARGET_RATIO}x) {verdict}; at most {ceiling:,.0f} req/s can wait "
            f"{wait:.0f} ms each on {connections} connections"
        )
    upstream = median_of(results, "upstream", 32).rps
    lines.append(f"upstream / baseline req/s at 32 conns: {upstream / base.rps:.2f}x")
    direct = median_of(results, "upstream", 4).p50_ms
    dni4 = median_of(results, "dni-edge 0ms", 4)
    extra = dni4.p50_ms - direct - provider_ms["dni-edge 0ms c4"]
    verdict = "PASS" if extra <= TARGET_ADDED_P50_MS else "FAIL"
    lines.append(
        f"added p50 over the upstream at 4 conns, provider time excluded: {extra:.2f} ms "
        f"(target <= {TARGET_ADDED_P50_MS} ms) {verdict}"
    )
    verdict = "PASS" if peak < TARGET_RSS_MB else "FAIL"
    lines.append(
        f"dni-edge RSS: {idle:.0f} MB idle, peak {peak:.0f} MB at 256 conns on 1 MB pages "
        f"(target < {TARGET_RSS_MB:.0f} MB) {verdict}"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description="wrk benchmark of dni-edge against a baseline")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--quick", action="store_true", help="2 s per run")
    parser.add_argument("--upstream-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream_server:
        serve_upstream(args.upstream_server)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    print("\n".join(run(2.0 if args.quick else args.duration)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
