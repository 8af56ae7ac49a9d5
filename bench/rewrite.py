"""Benchmark of scan + render against selectolax's own parse of the same bytes.

    python -m bench.rewrite [--quick]

For the corpus pages (../shared/corpus, if present) and generated 20 KB, 100 KB and
1 MB pages with five occurrences, it prints the median time of scan + render, the
throughput, and the ratio to `LexborHTMLParser(bytes)` measured in the same run,
interleaved so both see the same machine. Then the issue's targets with PASS/FAIL:
100 KB within 0.5x the parse, 1 MB within 11x the 100 KB time, extra memory under
4x the page, and with exclude selectors within 1.5x the parse. Runs in under 60 s;
exits 1 when a target is missed. Figures and their reading: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from bench.pages import ORIGINALS, TRACKINGS, generated_pages
from rules import Matcher, Phone, PhoneError, Tracking, parse_phone, scan

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
EXCLUDE = ("footer", ".legal")
TIME_BUDGET = 0.25  # seconds of measurement per page and per contender
MAX_REPEATS = 400


@dataclass
class Case:
    name: str
    body: bytes
    phones: tuple[Phone, ...]
    assignments: dict[str, Tracking]

    @cached_property
    def matcher(self) -> Matcher:
        """Compiled once, as the proxy compiles each rule's matcher at start-up."""
        return Matcher(self.phones)


@dataclass(frozen=True)
class Timing:
    rewrite: float
    parse: float

    @property
    def ratio(self) -> float:
        return self.rewrite / self.parse


def rewrite_once(case: Case, exclude: tuple[str, ...] = ()) -> bytes:
    return scan(case.body, case.matcher, exclude=exclude).render(case.assignments)


def measure(case: Case, exclude: tuple[str, ...] = (), budget: float = TIME_BUDGET) -> Timing:
    """Median times of scan + render and of a selectolax parse, run alternately."""

    def rewrite() -> bytes:
        return rewrite_once(case, exclude)

    def parse() -> LexborHTMLParser:
        return LexborHTMLParser(case.body)

    # Warm up: the matcher is compiled and caches filled before anything is timed.
    rewrite()
    parse()
    once = max(_clock(rewrite), _clock(parse), 1e-6)
    repeats = max(5, min(MAX_REPEATS, int(budget / once)))
    rewrites, parses = [], []
    gc.collect()
    for _ in range(repeats):
        rewrites.append(_clock(rewrite))
        parses.append(_clock(parse))
    return Timing(statistics.median(rewrites), statistics.median(parses))


def _clock(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def extra_memory(case: Case) -> int:
    """Peak bytes Python allocates during scan + render, beyond what was live before."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rewrite_once(case)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - before


def generated_cases() -> list[Case]:
    phones = tuple(parse_phone(text) for text in ORIGINALS)
    assignments = {
        p.e164: Tracking(parse_phone(t).e164) for p, t in zip(phones, TRACKINGS, strict=True)
    }
    return [Case(page.name, page.body, phones, assignments) for page in generated_pages()]


def corpus_cases() -> list[Case]:
    manifest = CORPUS / "manifest.json"
    if not manifest.is_file():
        return []
    cases = []
    for entry in json.loads(manifest.read_text(encoding="utf-8")):
        phones = tuple(dict.fromkeys(_phones(entry["phones_detail"])))
        assignments = {p.e164: Tracking(_same_shape(p)) for p in phones}
        body = (CORPUS / entry["file"]).read_bytes()
        cases.append(Case(Path(entry["file"]).stem, body, phones, assignments))
    return cases


def _phones(details: Iterable[dict[str, str]]) -> Iterable[Phone]:
    for detail in details:
        try:
            if detail.get("e164"):
                yield parse_phone(detail["e164"])
        except PhoneError:
            continue


def _same_shape(phone: Phone) -> str:
    """A valid number of the same country and length: the last two digits changed."""
    for step in range(1, 100):
        tail = f"{(int(phone.e164[-2:]) + 37 * step) % 100:02d}"
        try:
            return parse_phone(phone.e164[:-2] + tail).e164
        except PhoneError:
            continue
    return phone.e164


def row(name: str, size: int, timing: Timing, extra: str = "") -> str:
    mb_s = size / timing.rewrite / 1e6
    return (
        f"{name:>10} {size:>10,} {timing.rewrite * 1e3:>9.3f} {mb_s:>8.1f}"
        f" {timing.parse * 1e3:>9.3f} {timing.ratio:>6.2f}x {extra}"
    )


HEADER = (
    f"{'page':>10} {'bytes':>10} {'rewrite ms':>9} {'MB/s':>8} {'parse ms':>9} {'ratio':>7}\n"
    + "-" * 62
)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def run_corpus(cases: list[Case], budget: float) -> None:
    if not cases:
        print(f"corpus: not found at {CORPUS}, skipped\n")
        return
    print(f"corpus pages ({len(cases)}), scan + render vs selectolax parse\n{HEADER}")
    timings = [measure(case, budget=budget) for case in cases]
    for case, timing in zip(cases, timings, strict=True):
        print(row(case.name, len(case.body), timing, f"{len(case.phones)} phones"))
    total = sum(len(c.body) for c in cases)
    rewrite = sum(t.rewrite for t in timings)
    parse = sum(t.parse for t in timings)
    worst = max(timings, key=lambda t: t.ratio)
    print(row("all", total, Timing(rewrite, parse), f"(worst page {worst.ratio:.2f}x)\n"))


def run_generated(cases: list[Case], budget: float) -> bool:
    print(f"generated pages, 5 occurrences\n{HEADER}")
    timings = {case.name: measure(case, budget=budget) for case in cases}
    for case in cases:
        print(row(case.name, len(case.body), timings[case.name]))
    print(f"\nwith exclude selectors {EXCLUDE}\n{HEADER}")
    excluded = {case.name: measure(case, EXCLUDE, budget) for case in cases}
    for case in cases:
        print(row(case.name, len(case.body), excluded[case.name]))
    by_name = {case.name: case for case in cases}
    return targets(by_name, timings, excluded)


def targets(
    cases: dict[str, Case], timings: dict[str, Timing], excluded: dict[str, Timing]
) -> bool:
    page = cases["100 KB"]
    ratio = timings["100 KB"].ratio
    linear = timings["1 MB"].rewrite / timings["100 KB"].rewrite
    memory = max(extra_memory(case) / len(case.body) for case in cases.values())
    with_exclude = excluded["100 KB"].ratio
    checks = [
        (f"100 KB scan + render / selectolax parse = {ratio:.2f}x (target <= 0.5x)", ratio <= 0.5),
        (f"1 MB time / 100 KB time = {linear:.1f}x (target <= 11x)", linear <= 11),
        (f"extra memory = {memory:.2f}x the page, worst size (target < 4x)", memory < 4),
        (
            f"100 KB with exclude / parse = {with_exclude:.2f}x (target <= 1.5x)",
            with_exclude <= 1.5,
        ),
    ]
    print(f"\ntargets ({len(page.body):,}-byte page for ratios)")
    for text, ok in checks:
        print(f"  {verdict(ok)}  {text}")
    return all(ok for _, ok in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rewrite", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    parser.add_argument("--no-corpus", action="store_true", help="generated pages only")
    args = parser.parse_args(argv)
    budget = TIME_BUDGET / 5 if args.quick else TIME_BUDGET
    started = time.perf_counter()
    print(f"Python {sys.version.split()[0]}, selectolax parse as baseline, medians\n")
    if not args.no_corpus:
        run_corpus(corpus_cases(), budget / 2)
    ok = run_generated(generated_cases(), budget * 4)
    print(f"\nran in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
