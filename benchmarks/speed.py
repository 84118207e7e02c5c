r"""Speed and scale benchmark: seeded realistic corpora, per-stage figures, floor and peers.

A corpus of ``n`` news-length articles is generated from the real articles of the dev corpora
(``../shared/data``): stories hold events, each event's articles are rewrites of one real
article with words swapped, a share of them are syndicated copies of another article of the
event, and every source appends its own boilerplate (footer, teaser line). Dates, sources and
gold ``story``/``event`` labels are set, so quality can be scored on the same file.

For each size the benchmark runs, on the same corpus and in the same invocation:

* ``dedup run`` end to end (a subprocess: its wall time, peak RSS and per-stage timings);
* the floor: plain Python tokenize (``\w+`` of the lower-cased text) and word 5-gram shingles,
  on one core, measured just before each dedup run (``--e2e-repeat`` rounds of the two: the
  ratios are each round's, their median reported);
* signatures: dedup's batch MinHash on its own shingles, against datasketch ``update_batch``
  (and rensa when installed) on the same shingles, on a sample.

Each result is one JSON line. Example::

    python benchmarks/speed.py --sizes 10000,100000 --jobs 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
_WORD = re.compile(r"\w+")


def load_real(paths: list[Path]) -> list[dict[str, str]]:
    """The real articles the corpus is built from (title and text)."""
    articles = []
    for path in paths:
        with path.open(encoding="utf-8") as stream:
            for line in stream:
                record = json.loads(line)
                if len(record.get("text", "").split()) >= 150:
                    articles.append({"title": record.get("title") or "", "text": record["text"]})
    return articles


class CorpusGenerator:
    """Seeded generator of realistic news corpora built from real articles.

    Args:
        real: Real articles (``title``, ``text``).
        seed: Random seed; the same seed and size give the same corpus.
        sources: Number of outlets.
    """

    def __init__(self, real: list[dict[str, str]], *, seed: int, sources: int = 300) -> None:
        self.real = real
        self.rng = random.Random(seed)
        words = [w for article in real[:2000] for w in article["text"].split()]
        self.vocabulary = words  # sampled with corpus frequencies
        self.sources = [f"outlet{i:03d}.vn" for i in range(sources)]
        self.footers = {
            s: [f"Bạn đọc gửi ý kiến về {s}", f"Theo {s.split('.')[0].upper()} tổng hợp"]
            for s in self.sources
        }

    def _swap(self, paragraphs: list[str], share: float) -> list[str]:
        """Replace ``share`` of the words of each paragraph with corpus words."""
        rng, vocabulary = self.rng, self.vocabulary
        out = []
        for paragraph in paragraphs:
            words = paragraph.split()
            for position in rng.sample(range(len(words)), int(len(words) * share)):
                words[position] = rng.choice(vocabulary)
            out.append(" ".join(words))
        return out

    def articles(self, n: int) -> list[dict[str, object]]:
        """Return ``n`` articles in a shuffled (feed-like) order."""
        rng = self.rng
        out: list[dict[str, object]] = []
        story = 0
        while len(out) < n:
            base = rng.choice(self.real)
            # A real article is the base of many stories in a large corpus: each story changes
            # a third of its words and names its own actors, so stories stay apart.
            names = [f"{rng.choice(self.vocabulary)}{story}" for _ in range(6)]
            base_paragraphs = [
                " ".join(w if rng.random() > 0.04 else rng.choice(names) for w in p.split())
                for p in self._swap([p for p in base["text"].splitlines() if p.strip()], 0.33)
            ]
            start = date(2015, 1, 1) + timedelta(days=rng.randrange(1500))
            for event in range(rng.choice((1, 1, 2, 3, 4))):
                # Each event retells the story with a fifth of the words changed.
                event_paragraphs = self._swap(base_paragraphs, 0.2 if event else 0.0)
                day = start + timedelta(days=event * rng.randint(8, 40))
                members: list[list[str]] = []
                for _ in range(min(1 + int(rng.expovariate(0.25)), 40)):
                    source = rng.choice(self.sources)
                    if members and rng.random() < 0.25:  # syndicated copy, maybe truncated
                        paragraphs = list(rng.choice(members))
                        paragraphs = paragraphs[
                            : max(3, int(len(paragraphs) * rng.uniform(0.7, 1)))
                        ]
                        paragraphs = self._swap(paragraphs, 0.01)
                    else:  # rewrite: words swapped, a paragraph dropped, two swapped
                        paragraphs = self._swap(event_paragraphs, rng.uniform(0.08, 0.3))
                        if len(paragraphs) > 4:
                            del paragraphs[rng.randrange(len(paragraphs))]
                            i = rng.randrange(len(paragraphs) - 1)
                            paragraphs[i], paragraphs[i + 1] = paragraphs[i + 1], paragraphs[i]
                    members.append(paragraphs)
                    tail = list(self.footers[source]) if rng.random() < 0.7 else []
                    title = " ".join(self._swap([base["title"]], 0.2)[0].split())
                    when = day + timedelta(days=rng.choice((0, 0, 0, 1, 2)))
                    out.append(
                        {
                            "title": title,
                            "text": "\n".join(paragraphs + tail),
                            "source": source,
                            "date": when.isoformat(),
                            "story": f"s{story}",
                            "event": f"s{story}e{event}",
                        }
                    )
            story += 1
        del out[n:]
        rng.shuffle(out)
        for i, article in enumerate(out):
            article["id"] = f"a{i}"
        return out


def corpus_path(n: int, seed: int, cache: Path, real: list[Path]) -> Path:
    """Generate the corpus of size ``n`` once (cached as JSONL) and return its path."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"speed-v2-{n}-{seed}.jsonl"  # v2: stories apart even on a shared base
    if not path.exists():
        generator = CorpusGenerator(load_real(real), seed=seed)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as stream:
            for start in range(0, n, 50_000):
                for article in generator.articles(min(50_000, n - start)):
                    article["id"] = f"a{start + int(str(article['id'])[1:])}"
                    stream.write(json.dumps(article, ensure_ascii=False) + "\n")
        tmp.replace(path)
    return path


def floor(texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of tokens and word 5-gram shingles of ``texts`` in plain Python.

    One core, so the two are about equal on a quiet machine.
    """
    start, cpu = time.perf_counter(), time.process_time()
    _floor_work(texts)
    return time.perf_counter() - start, time.process_time() - cpu


def _floor_work(texts: list[str]) -> None:
    for text in texts:
        tokens = _WORD.findall(text.lower())
        {" ".join(tokens[i : i + 5]) for i in range(len(tokens) - 4)}


def signature_rates(texts: list[str], repeat: int) -> dict[str, float]:
    """Articles/s of dedup's batch signatures and of the peers, on the same shingles.

    ``dedup``: as the pipeline computes them (a compiled loop with the ``fast`` extra);
    ``dedup_numpy``: numpy's passes, without it.
    """
    import numpy as np
    from datasketch import MinHash

    from dedup import compiled
    from dedup.normalize import normalize_text
    from dedup.shingle import Hasher, Permutations, tokenize

    hasher = Hasher()
    shingles = [hasher.shingles(tokenize(normalize_text(t)), 5) for t in texts]
    perms = Permutations(128, seed=1)
    fast = compiled.available()
    perms.signatures(shingles[:2], compiled=fast)  # (loads the compiled loop)
    rates = {
        "dedup": len(texts) / _median(lambda: perms.signatures(shingles, compiled=fast), repeat),
        "dedup_numpy": len(texts) / _median(lambda: perms.signatures(shingles), repeat),
    }
    as_bytes = [[int(v).to_bytes(8, "little") for v in s] for s in shingles]

    def datasketch_batch() -> None:
        for values in as_bytes:
            MinHash(num_perm=128, seed=1).update_batch(values)

    sample = max(1, len(texts) // 4)  # the peers are slow: a quarter of the documents
    as_bytes = as_bytes[:sample]
    rates["datasketch_update_batch"] = sample / _median(datasketch_batch, repeat)
    try:
        from rensa import RMinHash
    except ImportError:
        return rates
    as_text = [[str(v) for v in s.tolist()] for s in shingles[:sample]]

    def rensa_update() -> None:
        for values in as_text:
            RMinHash(num_perm=128, seed=1).update(values)

    rates["rensa"] = sample / _median(rensa_update, repeat)
    del np
    return rates


def _median(work: object, repeat: int) -> float:
    """Median wall seconds of ``repeat`` calls of ``work``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_dedup(path: Path, jobs: int, timeout: float, pss: bool = False) -> dict[str, float]:
    """Run ``dedup run`` end to end in a subprocess; wall seconds, peak RSS and stage stats.

    With ``pss`` (Linux), also the peak of the summed PSS of dedup and its worker processes
    (``peak_pss_mb``), sampled every second: what the run takes of the machine's memory, where
    RSS counts a page shared by forked processes once in each.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        stats_path = Path(tmp) / "stats.json"
        command = [sys.executable, "-m", "dedup", "run", str(path), "--format", "json"]
        command += ["-o", str(out), "--jobs", str(jobs), "--quiet", "--stats", str(stats_path)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=_env())
        sampler = _PssSampler(process.pid) if pss else None
        try:
            code = process.wait(timeout=timeout)
        finally:
            process.kill()  # a no-op once it has ended
            peak_pss_kb = sampler.stop() if sampler else None
        seconds = time.perf_counter() - start
        if code:
            raise subprocess.CalledProcessError(code, command)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    # CPU seconds of dedup and its worker processes (user + system): less swayed than the wall
    # time by other jobs on a shared machine.
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    figures = {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3), "stages": stats}
    peak_kb = after.ru_maxrss
    # ru_maxrss of children is the largest child so far: exact for the first (largest) run.
    figures["peak_rss_mb"] = round(max(peak_kb, before.ru_maxrss) / 1024, 1)
    if peak_pss_kb is not None:
        figures["peak_pss_mb"] = round(peak_pss_kb / 1024, 1)
    return figures


class _PssSampler:
    """The peak of the summed PSS (KB) of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        import threading

        self.pid, self.interval, self.peak = pid, interval, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, sum(map(_pss_kb, _process_tree(self.pid))))
            self._done.wait(self.interval)

    def stop(self) -> int | None:
        """Stop sampling; the peak, or None where ``/proc`` has no ``smaps_rollup``."""
        self._done.set()
        self._thread.join()
        return self.peak or None


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``; those that end meanwhile are skipped)."""
    tree, pending = [], [pid]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            continue
        pending += map(int, children.split())
    return tree


def _pss_kb(pid: int) -> int:
    """The proportional set size of ``pid`` in KB (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def cluster_fit(path: Path, repeat: int, jobs: int = 1) -> dict[str, float]:
    """Median seconds of the clustering stage alone on one corpus, and this process' peak RSS.

    Tokens are given as the pipeline gives them: ids of one shared vocabulary (int32 arrays);
    the blocks of the story graph run in ``jobs`` processes, as ``dedup run --jobs`` runs them.
    """
    from dedup.cluster import EventStoryClusterer
    from dedup.io.dates import parse_date
    from dedup.memory import fit_memory, fit_memory_to_corpora
    from dedup.normalize import normalize_text
    from dedup.shingle import tokenize
    from dedup.tfidf import Vocabulary

    fit_memory_to_corpora()  # as the CLI does
    vocabulary = Vocabulary()
    bodies, titles, dates = [], [], []
    characters = 0
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            characters += len(record["text"])
            bodies.append(vocabulary.ids(tokenize(normalize_text(record["text"]))))
            titles.append(vocabulary.ids(tokenize(normalize_text(record["title"]))))
            dates.append(parse_date(record["date"]))
    fit_memory(characters)
    loaded_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def fit() -> None:
        EventStoryClusterer(jobs=jobs).fit(
            bodies, titles=titles, published=dates, vocabulary=vocabulary
        )

    seconds = _median(fit, repeat)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "input_rss_mb": round(loaded_kb / 1024, 1),
    }


def cluster_scaling(paths: list[Path], repeat: int, jobs: int) -> dict[str, object]:
    """Seconds and peak RSS of the clustering stage alone at each size, and the time ratios.

    Each size runs in its own process, so its peak RSS is its own.
    """
    seconds, peak = {}, {}
    for path in paths:
        command = [sys.executable, str(Path(__file__).resolve()), "--cluster-worker", str(path)]
        command += ["--repeat", str(repeat), "--jobs", str(jobs)]
        done = subprocess.run(command, check=True, capture_output=True, text=True, env=_env())
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        n = sum(1 for _ in path.open(encoding="utf-8"))
        seconds[n], peak[n] = figures["seconds"], figures["peak_rss_mb"]
    sizes = sorted(seconds)
    ratios = {f"{b}/{a}": round(seconds[b] / seconds[a], 2) for a, b in itertools.pairwise(sizes)}
    return {
        "benchmark": "speed-clustering",
        "seconds": seconds,
        "peak_rss_mb": peak,
        "time_ratios": ratios,
    }


def _texts(path: Path, limit: int | None = None) -> list[str]:
    """The article texts of a corpus file (the first ``limit`` ones; all when None)."""
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line)["text"] for line in itertools.islice(stream, limit)]


def _alternated_rounds(path: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    """``--e2e-repeat`` rounds, each the floor (median of ``--repeat``) then ``dedup run``.

    A shared machine's speed drifts over minutes: alternating the two puts each dedup run
    beside a floor measured in the same minutes, and the ratios are taken round by round.
    The texts are read anew each round and dropped before dedup runs (a million texts:
    about 6 GB the benchmark would hold beside the run it measures).
    """
    rounds = []
    for _ in range(args.e2e_repeat):
        texts = _texts(path)
        times = [floor(texts) for _ in range(args.repeat)]
        floor_seconds = statistics.median(wall for wall, _ in times)
        floor_cpu_seconds = statistics.median(cpu for _, cpu in times)
        del texts
        run = run_dedup(path, args.jobs, args.timeout, args.pss)
        rounds.append(
            {
                "run": run,
                "floor_seconds": floor_seconds,
                "floor_cpu_seconds": floor_cpu_seconds,
                "ratio": run["seconds"] / floor_seconds,
                "cpu_ratio": run["cpu_seconds"] / floor_cpu_seconds,
            }
        )
    return rounds


def main(argv: list[str] | None = None) -> None:
    """Generate corpora, run the pipeline, the floor and the peers, print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000", help="Comma-separated corpus sizes.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="dedup --jobs")
    parser.add_argument("--repeat", type=int, default=3, help="Repeats of the floor and peers.")
    parser.add_argument("--e2e-repeat", type=int, default=1, help="Repeats of dedup run.")
    parser.add_argument("--sample", type=int, default=4000, help="Articles for the peers.")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dedup-bench")
    parser.add_argument("--timeout", type=float, default=3600.0, help="Seconds per dedup run.")
    parser.add_argument(
        "--pss",
        action="store_true",
        help="Also sample the summed PSS of dedup's processes every second (Linux).",
    )
    parser.add_argument(
        "--real", type=Path, nargs="+", default=[DATA / "vims.jsonl", DATA / "ktlab.jsonl"]
    )
    parser.add_argument(
        "--cluster-only",
        action="store_true",
        help="Time only the clustering stage at each size (near-linear check).",
    )
    parser.add_argument("--cluster-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.cluster_worker:  # one size of --cluster-only, in its own process
        print(json.dumps(cluster_fit(args.cluster_worker, args.repeat, args.jobs)), flush=True)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.cluster_only:
        paths = [corpus_path(n, args.seed, args.cache, args.real) for n in sizes]
        print(json.dumps(cluster_scaling(paths, args.repeat, args.jobs)), flush=True)
        return
    from dedup import compiled

    for n in sizes:
        path = corpus_path(n, args.seed, args.cache, args.real)
        rounds = _alternated_rounds(path, args)
        rates = signature_rates(_texts(path, args.sample), args.repeat)
        run = sorted((r["run"] for r in rounds), key=lambda r: r["seconds"])[len(rounds) // 2]
        floor_seconds = statistics.median(r["floor_seconds"] for r in rounds)
        floor_cpu_seconds = statistics.median(r["floor_cpu_seconds"] for r in rounds)
        floor_rate = n / floor_seconds
        line = {
            "benchmark": "speed",
            "articles": n,
            "seed": args.seed,
            "jobs": args.jobs,
            "compiled_kernels": compiled.available(),  # the fast extra (numba) installed
            "dedup_seconds": run["seconds"],
            "dedup_articles_per_s": round(n / run["seconds"], 1),
            "peak_rss_mb": run["peak_rss_mb"],
            **({"peak_pss_mb": run["peak_pss_mb"]} if "peak_pss_mb" in run else {}),
            "stages": {k: v for k, v in run["stages"].items() if k.startswith("seconds_")},
            "floor_seconds": round(floor_seconds, 3),
            "floor_articles_per_s": round(floor_rate, 1),
            # The median of each round's ratio: a round's floor ran just before its dedup run.
            "dedup_over_floor": round(statistics.median(r["ratio"] for r in rounds), 2),
            "dedup_cpu_seconds": run["cpu_seconds"],
            "floor_cpu_seconds": round(floor_cpu_seconds, 3),
            "dedup_cpu_over_floor_cpu": round(statistics.median(r["cpu_ratio"] for r in rounds), 2),
            "rounds": [  # each round's floor, then its dedup run
                {
                    "floor_seconds": round(r["floor_seconds"], 3),
                    "dedup_seconds": r["run"]["seconds"],
                    "dedup_over_floor": round(r["ratio"], 3),
                }
                for r in rounds
            ],
            "signatures_articles_per_s": {k: round(v, 1) for k, v in rates.items()},
            "signatures_over_floor": round(rates["dedup"] / floor_rate, 2),
            "signatures_over_peers": {
                k: round(rates["dedup"] / v, 2) for k, v in rates.items() if k != "dedup"
            },
            "counts": {k: v for k, v in run["stages"].items() if not k.startswith("seconds_")},
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
