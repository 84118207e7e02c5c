"""The biggest clustering errors of dedup's shipped defaults on one labelled corpus.

Runs ``dedup.run`` on a dev corpus (gold fields stripped) and lists, at one level, the largest
*wrong merges* (a predicted cluster holding articles of several gold clusters) and the largest
*wrong splits* (a gold cluster spread over several predicted ones), each with one title per
part, so the errors can be read rather than guessed. One JSON line per error on standard
output; a readable listing on standard error. Example::

    python benchmarks/cluster_errors.py --corpus ../shared/data/ktlab.jsonl --level story
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality import GOLD_FIELDS, load, run_dedup

SHOWN_CHARACTERS = 110


def errors(
    gold: Sequence[Any], predicted: Sequence[Any], *, kind: str
) -> list[tuple[Any, dict[Any, list[int]]]]:
    """The wrong merges (``kind="merged"``) or splits (``"split"``), largest first.

    Args:
        gold: Gold cluster of each article.
        predicted: Predicted cluster of each article.
        kind: ``"merged"``: predicted clusters with articles of several gold clusters, each
            with its articles grouped by gold cluster; ``"split"``: gold clusters over several
            predicted ones, grouped by predicted cluster.

    Returns:
        ``(cluster, {part: article positions})`` pairs, by size then cluster name.

    Example:
        >>> errors(["a", "a", "b"], [1, 1, 1], kind="merged")
        [(1, {'a': [0, 1], 'b': [2]})]
    """
    outer, inner = (predicted, gold) if kind == "merged" else (gold, predicted)
    groups: dict[Any, dict[Any, list[int]]] = defaultdict(lambda: defaultdict(list))
    for position, (key, part) in enumerate(zip(outer, inner, strict=True)):
        groups[key][part].append(position)
    wrong = [(key, dict(parts)) for key, parts in groups.items() if len(parts) > 1]
    return sorted(wrong, key=lambda item: (-sum(map(len, item[1].values())), str(item[0])))


def describe(record: dict[str, Any]) -> str:
    """A short line for an article: its date and its title (or the start of its text)."""
    heading = record.get("title") or record["text"].split("\n", 1)[0]
    return f"{record.get('date') or '-'} {heading[:SHOWN_CHARACTERS]}"


def main(argv: list[str] | None = None) -> int:
    """List the largest wrong merges and splits of one corpus at one level."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="labelled JSONL corpus")
    parser.add_argument("--level", choices=GOLD_FIELDS, default="story")
    parser.add_argument("--top", type=int, default=12, help="errors of each kind to list")
    args = parser.parse_args(argv)
    records = load(args.corpus)
    if any(r.get(args.level) is None for r in records):
        parser.error(f"{args.corpus} has no gold {args.level} for every article")
    articles, _ = run_dedup(records)
    gold = [r[args.level] for r in records]
    predicted = [getattr(articles[r["id"]], args.level) for r in records]
    for kind in ("merged", "split"):
        found = errors(gold, predicted, kind=kind)
        print(f"=== {kind}: {len(found)} clusters", file=sys.stderr)
        for cluster, parts in found[: args.top]:
            sizes = {str(part): len(positions) for part, positions in parts.items()}
            print(f"-- {cluster}: {sizes}", file=sys.stderr)
            for part, positions in parts.items():
                print(f"   [{part}] {describe(records[positions[0]])}", file=sys.stderr)
            line = {
                "corpus": args.corpus.name,
                "level": args.level,
                "kind": kind,
                "cluster": str(cluster),
                "parts": {str(p): [records[i]["id"] for i in ids] for p, ids in parts.items()},
            }
            print(json.dumps(line, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
