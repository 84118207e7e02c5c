"""Does adding to the index cost time proportional to its size? Measure it as the index grows.

Builds one index of synthetic articles made of real paragraphs (the shared corpora, shuffled
into new articles, 10% of them lightly edited copies of earlier ones, 20 sources, dates over two
years) and, each time it reaches one of ``--sizes``, times matching the same batch of new
articles against it. The batch is timed with ``ArticleIndex.query``, which runs exactly what
``add`` runs (cleaning, band lookups, verification, group joins, event/story assignment, all the
writes) and then rolls the transaction back, so the same batch can be timed again at the next
size. The floor is the same batch into an empty index, measured in the same run.

Each measurement goes to stderr as one JSON line as soon as it is taken (a long run that is
stopped keeps what it measured); the run ends with one JSON line on stdout: per size, the median
of ``--repeat`` timings (wall milliseconds per article, and CPU milliseconds of this process,
which with ``--jobs`` leaves out the workers), ``ratio`` = the largest size's time / the smallest
size's (cost proportional to the size would give ``size_ratio``; a flat cost gives 1), the build
speed, the index file's bytes per article and this process's peak resident memory. With
``--index PATH`` the index is kept, and a later run with the same options resumes building it.

Example:
    python benchmarks/index.py --sizes 10000,100000,1000000 --batch 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from dedup.index import ArticleIndex
from dedup.types import Document

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
CORPORA = ("vims.jsonl", "ktlab.jsonl", "ecbplus-dev.jsonl")


def paragraph_pool() -> list[str]:
    """Every distinct paragraph of at least 8 words in the shared corpora."""
    pool: dict[str, None] = {}
    for name in CORPORA:
        path = DATA / name
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            for paragraph in json.loads(line)["text"].splitlines():
                if len(paragraph.split()) >= 8:
                    pool[paragraph.strip()] = None
    if not pool:
        raise SystemExit(f"no corpus found in {DATA}")
    return list(pool)


def synthetic(
    count: int, pool: list[str], rng: random.Random, prefix: str, *, skip: int = 0
) -> Iterator[Document]:
    """``count`` articles of 4-10 random real paragraphs; 10% are edited copies of earlier ones.

    Articles are made one at a time (a million never sit in memory together); ``skip`` draws
    and drops the first ones, so a resumed build continues the same sequence.
    """
    start = datetime(2015, 1, 1)
    made: list[tuple[int, ...]] = []  # each article's paragraphs, as positions in the pool
    for n in range(count):
        if made and rng.random() < 0.1:
            paragraphs = list(rng.choice(made))
            paragraphs.pop(rng.randrange(len(paragraphs)))
        else:
            paragraphs = rng.sample(range(len(pool)), rng.randint(4, 10))
        made.append(tuple(paragraphs))
        text = "\n".join(pool[p] for p in paragraphs)
        source = f"source{rng.randrange(20)}.vn"
        published = start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        if n >= skip:
            title = " ".join(text.split()[:10])
            yield Document(f"{prefix}{n}", text, title=title, source=source, published=published)


def timed_query(index: ArticleIndex, batch: list[Document], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds to match ``batch`` as ``add`` would (rolled back each time)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        index.query(batch)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _until(stop: float | None, documents: Iterator[Document]) -> Iterator[Document]:
    """``documents`` until the monotonic clock passes ``stop`` (None: all of them)."""
    for doc in documents:
        if stop is not None and time.monotonic() > stop:
            return
        yield doc


def index_bytes(path: Path) -> int:
    """The index file, bytes (without its write-ahead log, which a checkpoint empties)."""
    return path.stat().st_size


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(args: argparse.Namespace, path: Path) -> dict[str, object]:
    """Build the index at ``path`` through ``args.sizes``, timing the batch at each size."""
    pool = paragraph_pool()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    batch = list(synthetic(args.batch, pool, random.Random(args.seed + 1), "new-"))
    with (
        tempfile.TemporaryDirectory() as folder,
        ArticleIndex(Path(folder) / "e.idx", jobs=args.jobs) as empty,
    ):
        floor_wall, floor_cpu = timed_query(empty, batch, args.repeat)
    index = ArticleIndex(path, jobs=args.jobs)
    have = index.conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
    base = synthetic(sizes[-1], pool, random.Random(args.seed), "base-", skip=have)
    stop = time.monotonic() + args.build_seconds if args.build_seconds else None
    results = []
    for size in sizes:
        start, articles = time.perf_counter(), have
        wanted = itertools.islice(base, max(0, size - have))
        for _ in index.add(_until(stop, wanted), batch_size=args.build_batch):
            have += 1
        build = time.perf_counter() - start
        wall, cpu = timed_query(index, batch, args.repeat)
        result = {
            "size": have,
            "requested_size": size,
            "ms_per_article": round(1000 * wall / args.batch, 3),
            "cpu_ms_per_article": round(1000 * cpu / args.batch, 3),
            "build_articles_per_second": round((have - articles) / build, 1) if build else None,
            "bytes_per_article": round(index_bytes(path) / max(have, 1)),
            "peak_rss_mb": peak_rss_mb(),
        }
        results.append(result)
        print(json.dumps({"benchmark": "index_add_progress", **result}), file=sys.stderr)
        sys.stderr.flush()
        if have < size:  # out of build time: this is the largest size reached
            break
    index.close()
    small, large = results[0], results[-1]
    return {
        "benchmark": "index_add",
        "batch": args.batch,
        "repeat": args.repeat,
        "jobs": args.jobs,
        "empty_ms_per_article": round(1000 * floor_wall / args.batch, 3),
        "empty_cpu_ms_per_article": round(1000 * floor_cpu / args.batch, 3),
        "sizes": results,
        "ratio": round(large["ms_per_article"] / small["ms_per_article"], 3),
        "cpu_ratio": round(large["cpu_ms_per_article"] / small["cpu_ms_per_article"], 3),
        "size_ratio": round(large["size"] / small["size"], 3),
        "index_bytes": index_bytes(path),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="5000,20000", help="index sizes (articles, comma-separated)"
    )
    parser.add_argument("--batch", type=int, default=2000, help="articles matched at each size")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per size (median)")
    parser.add_argument(
        "--build-batch", type=int, default=10000, help="articles per transaction while building"
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes that draft articles")
    parser.add_argument(
        "--build-seconds",
        type=float,
        help="stop building after this long and measure at the size reached (then stop)",
    )
    parser.add_argument("--index", type=Path, help="keep the index here (resumes when present)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.index is not None:
        print(json.dumps(measure(args, args.index)))
        return
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(measure(args, Path(folder) / "bench.idx")))


if __name__ == "__main__":
    main()
