"""Do duplicate groups chain through articles contained in longer ones? Largest group, by rule.

Duplicate groups are connected components of verified pairs. A short article contained in
several longer ones that are not copies of each other (a wire paragraph quoted everywhere), or a
long one holding several shorter ones, joins them all into one group through the containment
rule; ``NearDupConfig.min_size_ratio`` keeps that rule to truncated copies. This benchmark runs
the paragraph stage once per corpus, then the near-duplicate stage once per ``--ratios`` value,
all in one process: 0 is the rule without the floor (the comparison), 1 leaves the Jaccard rule
alone (containment then never decides). Per corpus and ratio: duplicate groups and members, the
largest group and its size over the first ratio's (``largest_ratio_to_floor``), the members
whose pair with their canonical fails the rule in force (``off_rule``: joined only through
others) and the rule without the floor (``off_plain_rule``), the lowest similarity to a
canonical, and the candidate pairs that pass by containment alone, found and kept.

Corpora: ``synthetic`` (the generator of ``benchmarks/index.py``: articles of 4-10 paragraphs
drawn from the real paragraphs of the dev corpora, 10% copies of earlier articles with one
paragraph dropped, so copies of copies shrink to a paragraph or two found in other articles;
the pool also holds a few hundred paragraphs of 300 to 2,800 words, which make the articles
sharing one of them duplicates by Jaccard) and the dev corpora.

Run: ``python benchmarks/chaining.py [--articles 30000] [--ratios 0,0.25,0.5,1]``; one JSON line
per corpus and ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from index import paragraph_pool, synthetic

from dedup import api
from dedup.config import NearDupConfig, PipelineConfig
from dedup.neardup import NearDuplicateFinder, is_near_duplicate
from dedup.pipeline import CleanedCorpus, clean_paragraphs
from dedup.shingle import Hasher, jaccard_containment, lsh_candidates
from dedup.types import Document

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEV = ("vims.jsonl", "ktlab.jsonl", "ecbplus-dev.jsonl")


def documents(name: str, articles: int, seed: int) -> list[Document]:
    """The corpus ``name``: ``synthetic`` or a dev corpus file in :data:`DATA`."""
    if name == "synthetic":
        return list(synthetic(articles, paragraph_pool(), random.Random(seed), "a"))
    return list(api.read([DATA / name]))


def measure(docs: list[Document], corpus: CleanedCorpus, config: NearDupConfig) -> dict[str, Any]:
    """Group ``corpus`` with ``config`` and describe the groups."""
    start = time.perf_counter()
    finder = NearDuplicateFinder(config).fit(
        corpus.shingles,
        ids=[d.id for d in docs],
        published=[d.published for d in docs],
        lengths=corpus.lengths,
        signatures=corpus.signatures,
    )
    seconds = time.perf_counter() - start
    plain = NearDupConfig(
        threshold=config.threshold, containment=config.containment, min_size_ratio=0.0
    )
    members = [k for k, c in enumerate(finder.canonical_) if c != k]
    sets = corpus.shingles

    def fails(k: int, rule: NearDupConfig) -> bool:
        return not is_near_duplicate(sets[k], sets[finder.canonical_[k]], rule)

    return {
        "groups": len(finder.groups_),
        "duplicates": len(members),
        "largest_group": max((len(g) for g in finder.groups_), default=0),
        "off_rule": sum(fails(k, config) for k in members),
        "off_plain_rule": sum(fails(k, plain) for k in members),
        "min_similarity": min((finder.similarity_[k] or 0.0 for k in members), default=None),
        "verified_pairs": finder.n_verified_,
        "near_seconds": round(seconds, 2),
    }


def containment_only_ratios(corpus: CleanedCorpus, config: NearDupConfig) -> Iterator[float]:
    """Size ratio (smaller over larger) of each candidate pair passing only by containment."""
    indexed = [i for i, s in enumerate(corpus.shingles) if len(s) >= config.min_shingles]
    pairs = lsh_candidates(corpus.signatures[indexed], config.lsh_threshold)
    for a, b in pairs.tolist():
        x, y = corpus.shingles[indexed[a]], corpus.shingles[indexed[b]]
        jaccard, contained = jaccard_containment(x, y)
        if jaccard < config.threshold and contained >= config.containment:
            yield min(len(x), len(y)) / max(len(x), len(y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="synthetic," + ",".join(DEV))
    parser.add_argument("--articles", type=int, default=30000, help="synthetic articles")
    parser.add_argument("--ratios", default="0,0.25,0.5,1", help="min_size_ratio values compared")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    ratios = [float(r) for r in args.ratios.split(",")]
    for name in args.corpora.split(","):
        docs = documents(name, args.articles, args.seed)
        config = PipelineConfig(jobs=args.jobs)
        corpus = clean_paragraphs(docs, config, Hasher())
        shares = sorted(containment_only_ratios(corpus, config.neardup))
        floor = None
        for ratio in ratios:
            near = NearDupConfig(min_size_ratio=ratio)
            row = {"benchmark": "chaining", "corpus": name, "articles": len(docs)}
            row.update(ratio=ratio, **measure(docs, corpus, near))
            floor = floor or row["largest_group"]
            row["largest_ratio_to_floor"] = round(row["largest_group"] / max(floor, 1), 4)
            row["containment_only_pairs"] = len(shares)
            row["containment_only_pairs_kept"] = sum(s >= ratio for s in shares)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
