"""The Spark engine against the local engine: same groups? how much slower on one machine?

Runs the near-duplicate stage on the same JSONL corpus with the local engine (``run_files``
without clustering) and with ``spark_near_files`` (Spark in local mode, ``--master``, the
executors reading the file, as ``dedup near --engine spark`` does), checks that
every article gets the same ``duplicate_of`` and ``similarity``, and prints one JSON line with
the median seconds of each and ``ratio`` = Spark / local. Spark pays for a JVM, Python workers
and shuffles; it is there for corpora one machine cannot hold, not to be faster on one.

Example:
    python benchmarks/spark_near.py --corpus ../shared/data/vims.jsonl --repeat 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from dedup import api
from dedup.spark_near import spark_near_files

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "vims.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT, help="JSONL articles")
    parser.add_argument("--master", default="local[*]", help="Spark master URL")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per engine (median)")
    args = parser.parse_args()
    local_times, spark_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        local = api.run_files([args.corpus], cluster=False)
        local_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        spark = list(spark_near_files([str(args.corpus)], master=args.master))
        spark_times.append(time.perf_counter() - start)
    expected = [(a.id, a.duplicate_of, a.similarity) for a in local.articles]
    local_s, spark_s = statistics.median(local_times), statistics.median(spark_times)
    print(
        json.dumps(
            {
                "benchmark": "spark_near",
                "corpus": args.corpus.name,
                "articles": len(expected),
                "duplicates": sum(d is not None for _, d, _ in expected),
                "master": args.master,
                "repeat": args.repeat,
                "seconds_local": round(local_s, 2),
                "seconds_spark": round(spark_s, 2),
                "ratio": round(spark_s / local_s, 2),
                "same_groups": spark == expected,
            }
        )
    )


if __name__ == "__main__":
    main()
