"""Benchmark of the candidate search (`Matcher.finditer`) against selectolax's parse.

    python -m bench.numbers [--size BYTES]

On a generated page (`bench.pages.generate`, 100 KB by default) with
`bench.pages.ORIGINALS` configured, it prints the median time of `finditer`
through the C automaton and through the regexes, each as a ratio to
`LexborHTMLParser(bytes)` measured in the same run, interleaved so all three see
the same machine. Target: the native path within 0.10x of the parse. Runs in a
few seconds; exits 1 when the target is missed or the two paths disagree.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable

from selectolax.lexbor import LexborHTMLParser

from bench.pages import ORIGINALS, generate
from rules.numbers import Matcher
from rules.phones import parse_phone

TARGET = 0.10
BUDGET = 1.5  # seconds of measurement, all contenders together


def _clock(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(actions: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median time of each action, run in turn so that all see the same load."""
    for action in actions.values():
        action()  # warm up
    once = max(sum(_clock(action) for action in actions.values()), 1e-6)
    repeats = max(9, min(2000, int(BUDGET / once)))
    times: dict[str, list[float]] = {name: [] for name in actions}
    gc.collect()
    for _ in range(repeats):
        for name, action in actions.items():
            times[name].append(_clock(action))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=100_000, help="page size in bytes")
    args = parser.parse_args(argv)
    body = generate(args.size)
    phones = [parse_phone(text) for text in ORIGINALS]
    native, regexes = Matcher(phones), Matcher(phones, native=False)
    if not native.native:
        print("rules._numbers is not built: only the regexes can be measured")
    same = list(native.finditer(body)) == list(regexes.finditer(body))
    medians = measure(
        {
            "parse": lambda: LexborHTMLParser(body),
            "native": lambda: list(native.finditer(body)),
            "regexes": lambda: list(regexes.finditer(body)),
        }
    )
    parse = medians["parse"]
    print(f"page {len(body)} bytes, selectolax parse {parse * 1e6:.0f} us")
    for name in ("native", "regexes"):
        ratio = medians[name] / parse
        print(f"  finditer {name:8} {medians[name] * 1e6:7.1f} us  {ratio:.3f}x the parse")
    ratio = medians["native"] / parse
    verdict = "PASS" if ratio <= TARGET and native.native else "FAIL"
    print(f"{verdict} native finditer within {TARGET:.2f}x the parse ({ratio:.3f}x)")
    print(f"{'PASS' if same else 'FAIL'} native and regex spans are the same")
    return 0 if verdict == "PASS" and same else 1


if __name__ == "__main__":
    sys.exit(main())
