"""Does adding to the index cost time proportional to its size? Measure it at two sizes.

Builds one index of synthetic articles made of real paragraphs (the shared corpora, shuffled
into new articles, 10% of them lightly edited copies of earlier ones, 20 sources, dates over two
years), then times matching the same batch of new articles against it at two sizes. The batch is
timed with ``ArticleIndex.query``, which runs exactly what ``add`` runs (cleaning, band lookups,
verification, group joins, event/story assignment, all the writes) and then rolls the
transaction back, so the same batch can be timed again at the larger size. The floor is the
same batch into an empty index, measured in the same run.

One JSON line per run: seconds (median of ``--repeat``) per size, milliseconds per article, and
``ratio`` = time at the large size / time at the small size. Cost proportional to the size
would give ``size_ratio`` (large / small); a flat cost gives 1.

Example:
    python benchmarks/index.py --small 5000 --large 20000 --batch 2000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
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


def synthetic(count: int, pool: list[str], rng: random.Random, prefix: str) -> list[Document]:
    """``count`` articles of 4-10 random real paragraphs; 10% are edited copies of earlier ones."""
    start = datetime(2015, 1, 1)
    docs: list[Document] = []
    for n in range(count):
        if docs and rng.random() < 0.1:
            original = rng.choice(docs)
            paragraphs = original.text.splitlines()
            paragraphs.pop(rng.randrange(len(paragraphs)))
            text = "\n".join(paragraphs)
        else:
            text = "\n".join(rng.sample(pool, rng.randint(4, 10)))
        docs.append(
            Document(
                id=f"{prefix}{n}",
                text=text,
                title=" ".join(text.split()[:10]),
                source=f"source{rng.randrange(20)}.vn",
                published=start + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
            )
        )
    return docs


def timed_query(index: ArticleIndex, batch: list[Document], repeat: int) -> float:
    """Median seconds to match ``batch`` as ``add`` would (rolled back each time)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        index.query(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5000, help="first index size (articles)")
    parser.add_argument("--large", type=int, default=20000, help="second index size (articles)")
    parser.add_argument("--batch", type=int, default=2000, help="articles matched at each size")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per size (median)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = paragraph_pool()
    base = synthetic(args.large, pool, rng, "base-")
    batch = synthetic(args.batch, pool, rng, "new-")
    with tempfile.TemporaryDirectory() as folder:
        index = ArticleIndex(Path(folder) / "bench.idx")
        floor = timed_query(index, batch, args.repeat)
        start = time.perf_counter()
        for _ in index.add(base[: args.small], batch_size=5000):
            pass
        build_small = time.perf_counter() - start
        small = timed_query(index, batch, args.repeat)
        start = time.perf_counter()
        for _ in index.add(base[args.small :], batch_size=5000):
            pass
        build_rest = time.perf_counter() - start
        large = timed_query(index, batch, args.repeat)
        stats = index.stats()
        index.close()
    print(
        json.dumps(
            {
                "benchmark": "index_add",
                "small": args.small,
                "large": args.large,
                "batch": args.batch,
                "repeat": args.repeat,
                "seconds_empty": round(floor, 2),
                "seconds_small": round(small, 2),
                "seconds_large": round(large, 2),
                "ms_per_article_small": round(1000 * small / args.batch, 2),
                "ms_per_article_large": round(1000 * large / args.batch, 2),
                "ratio": round(large / small, 3),
                "size_ratio": round(args.large / args.small, 3),
                "build_articles_per_second": round(args.large / (build_small + build_rest), 1),
                "index_bytes": stats["bytes"],
                "duplicates": stats["duplicates"],
            }
        )
    )


if __name__ == "__main__":
    main()
