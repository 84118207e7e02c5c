"""Tests of dedup.evaluate: hand-worked examples, properties, real gold files, error texts."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Hashable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from dedup.errors import ConfigError, InputError
from dedup.evaluate import (
    ClusterScores,
    PairScores,
    bcubed,
    duplicate_components,
    evaluate,
    load_jsonl_labels,
    score_clusters,
    score_pairs,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
KTLAB = DATA / "ktlab.jsonl"
ECBPLUS = DATA / "ecbplus-dev.jsonl"
needs_data = pytest.mark.skipif(not KTLAB.exists(), reason="shared gold data not available")


def write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def f1(p: Fraction, r: Fraction) -> Fraction:
    return 2 * p * r / (p + r)


# --------------------------------------------------------------------------- B-cubed by hand


def test_bcubed_hand_example() -> None:
    # gold {a,b,c} {d,e}; pred {a,b} {c,d,e}
    # precision per item, |pred ∩ gold| / |pred|:  a 2/2, b 2/2, c 1/3, d 2/3, e 2/3
    #   P = (1 + 1 + 1/3 + 2/3 + 2/3) / 5 = (11/3) / 5 = 11/15
    # recall per item, |pred ∩ gold| / |gold|:     a 2/3, b 2/3, c 1/3, d 2/2, e 2/2
    #   R = (2/3 + 2/3 + 1/3 + 1 + 1) / 5 = (11/3) / 5 = 11/15
    gold = ["x", "x", "x", "y", "y"]
    pred = [1, 1, 2, 2, 2]
    precision, recall, f = bcubed(gold, pred)
    assert precision == pytest.approx(float(Fraction(11, 15)))
    assert recall == pytest.approx(float(Fraction(11, 15)))
    assert f == pytest.approx(float(Fraction(11, 15)))


def test_bcubed_hand_example_precision_differs_from_recall() -> None:
    # gold {a,b,c,d}; pred {a,b} {c} {d}: every pred cluster is pure, so P = 1.
    # recall per item: a 2/4, b 2/4, c 1/4, d 1/4 -> R = (6/4) / 4 = 3/8
    # F1 = 2 * 1 * 3/8 / (1 + 3/8) = (3/4) / (11/8) = 6/11
    precision, recall, f = bcubed(["g"] * 4, ["p", "p", "q", "r"])
    assert precision == 1.0
    assert recall == pytest.approx(3 / 8)
    assert f == pytest.approx(6 / 11)
    # Swapping gold and pred swaps precision and recall.
    assert bcubed(["p", "p", "q", "r"], ["g"] * 4)[:2] == pytest.approx((3 / 8, 1.0))


def test_bcubed_perfect_clustering_is_one_whatever_the_label_names() -> None:
    gold = ["a", "a", "b", "c", "c", "c"]
    pred = [7, 7, 3, 0, 0, 0]
    assert bcubed(gold, pred) == (1.0, 1.0, 1.0)


def test_bcubed_all_singletons() -> None:
    # gold sizes 3, 2, 1 (n = 6): each item's recall is 1/|gold|, so the items of a gold cluster
    # sum to 1 and R = (number of gold clusters) / n = 3/6; precision is 1.
    gold = ["a", "a", "a", "b", "b", "c"]
    precision, recall, _ = bcubed(gold, list(range(6)))
    assert precision == 1.0
    assert recall == pytest.approx(3 / 6)


def test_bcubed_all_in_one() -> None:
    # gold sizes 3, 2, 1 in one predicted cluster of 6: each item's precision is |gold| / 6,
    # so P = (3*3 + 2*2 + 1*1) / 6^2 = 14/36 = 7/18; recall is 1.
    gold = ["a", "a", "a", "b", "b", "c"]
    precision, recall, f = bcubed(gold, ["one"] * 6)
    assert precision == pytest.approx(7 / 18)
    assert recall == 1.0
    assert f == pytest.approx(float(f1(Fraction(7, 18), Fraction(1))))


def test_bcubed_none_is_a_singleton_each() -> None:
    # pred None, None for a, b: two singletons, not one cluster "None". P = 1, R = (1/2+1/2)/2.
    assert bcubed(["g", "g"], [None, None])[:2] == (1.0, 0.5)


@pytest.mark.parametrize(("gold", "pred"), [([], []), (["a"], ["a", "b"])])
def test_bcubed_rejects_empty_or_unequal(gold: list[str], pred: list[str]) -> None:
    with pytest.raises(ValueError, match="need two equal, non-empty lengths"):
        bcubed(gold, pred)


# --------------------------------------------------------------------------- score_clusters


def test_score_clusters_hand_example_and_sklearn_scores() -> None:
    gold = {"a": "x", "b": "x", "c": "x", "d": "y", "e": "y", "f": None}
    pred = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "2", "f": "3", "extra": "9"}
    scores = score_clusters(gold, pred, level="story")
    assert isinstance(scores, ClusterScores)
    # f (gold None) and extra (no gold) are not scored.
    assert (scores.level, scores.n_items, scores.n_gold, scores.n_pred) == ("story", 5, 2, 2)
    assert scores.bcubed_precision == pytest.approx(11 / 15)
    assert scores.bcubed_recall == pytest.approx(11 / 15)
    assert scores.bcubed_f1 == pytest.approx(11 / 15)
    g, p = list("xxxyy"), list("11222")
    assert scores.ari == pytest.approx(adjusted_rand_score(g, p))
    assert scores.nmi == pytest.approx(normalized_mutual_info_score(g, p))


def test_score_clusters_perfect() -> None:
    gold = {"a": 1, "b": 1, "c": 2}
    scores = score_clusters(gold, {"a": "s", "b": "s", "c": "t"}, level="event")
    assert (scores.bcubed_precision, scores.bcubed_recall, scores.bcubed_f1) == (1.0, 1.0, 1.0)
    assert (scores.ari, scores.nmi) == (1.0, 1.0)


def test_score_clusters_nothing_in_common() -> None:
    with pytest.raises(ValueError, match=r"^no id has both a gold label and a prediction$"):
        score_clusters({"a": "x", "b": None}, {"b": "1"}, level="story")


# --------------------------------------------------------------------------- duplicates


def test_duplicate_components_transitive_chain() -> None:
    # a -> b and c -> b: one group {a, b, c}, represented by the canonical copy b.
    # e -> d: {d, e}; f alone; g -> h -> i: {g, h, i}, i is canonical.
    edges = {"a": "b", "c": "b", "b": None, "d": None, "e": "d", "f": None, "g": "h", "h": "i"}
    components = duplicate_components(edges)
    assert components == {
        "a": "b", "b": "b", "c": "b",
        "d": "d", "e": "d",
        "f": "f",
        "g": "i", "h": "i", "i": "i",
    }  # fmt: skip


def test_duplicate_components_cycle_and_self_reference() -> None:
    # A cycle has no canonical copy: the smallest id represents it. A self-reference is a root.
    assert duplicate_components({"b": "a", "a": "c", "c": "b", "x": "x"}) == {
        "a": "a", "b": "a", "c": "a", "x": "x",
    }  # fmt: skip


def test_duplicate_components_does_not_depend_on_order() -> None:
    edges = [("a", "b"), ("c", "b"), ("d", "e"), ("e", None), ("b", None)]
    expected = duplicate_components(dict(edges))
    for perm in itertools.permutations(edges):
        assert duplicate_components(dict(perm)) == expected


def test_score_pairs_transitive_chain() -> None:
    # gold: a -> b, c -> b gives {a,b,c}: C(3,2) = 3 pairs; e -> d gives {d,e}: 1 pair; 4 in all.
    # pred: {a,b}, {c}, {d,e}: 2 pairs, both true (ab, de).
    # P = 2/2 = 1, R = 2/4 = 1/2, F1 = 2 * 1 * 1/2 / (3/2) = 2/3.
    gold = duplicate_components({"a": "b", "b": None, "c": "b", "d": None, "e": "d"})
    pred = {"a": "g1", "b": "g1", "c": "g2", "d": "g3", "e": "g3"}
    scores = score_pairs(gold, pred)
    assert scores == PairScores(
        n_items=5, gold_pairs=4, pred_pairs=2, true_pairs=2, precision=1.0, recall=0.5,
        f1=pytest.approx(2 / 3),
    )  # fmt: skip


def test_score_pairs_false_positive() -> None:
    # gold {a,b}, {c}, {d}; pred {a,b,c}, {d}: pred pairs ab, ac, bc = 3, true ab = 1.
    # P = 1/3, R = 1/1, F1 = 2 * 1/3 / (4/3) = 1/2.
    scores = score_pairs({"a": 1, "b": 1, "c": 2, "d": 3}, {"a": 1, "b": 1, "c": 1, "d": 2})
    assert (scores.gold_pairs, scores.pred_pairs, scores.true_pairs) == (1, 3, 1)
    assert (scores.precision, scores.recall) == (pytest.approx(1 / 3), 1.0)
    assert scores.f1 == pytest.approx(1 / 2)


def test_score_pairs_conventions_without_pairs() -> None:
    # Nothing predicted: precision 1, recall 0 -> F1 0.
    none_predicted = score_pairs({"a": 1, "b": 1}, {"a": 1, "b": 2})
    assert (none_predicted.precision, none_predicted.recall, none_predicted.f1) == (1.0, 0.0, 0.0)
    # No gold pairs: recall 1; the predicted pair is false: precision 0, F1 0.
    no_gold = score_pairs({"a": 1, "b": 2}, {"a": 1, "b": 1})
    assert (no_gold.precision, no_gold.recall, no_gold.f1) == (0.0, 1.0, 0.0)
    # Neither side has a pair: a perfect score.
    assert score_pairs({"a": None, "b": None}, {"a": "a", "b": "b"}).f1 == 1.0
    assert score_pairs({}, {}) == PairScores(0, 0, 0, 0, 1.0, 1.0, 1.0)


# --------------------------------------------------------------------------- properties

labels = st.lists(st.integers(0, 4), min_size=1, max_size=30)
label_pairs = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=n, max_size=n),
    )
)


def brute_bcubed(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[float, float]:
    """O(n^2) B-cubed straight from the definition (None is a singleton)."""
    n = len(gold)
    g = [x if x is not None else ("none", i) for i, x in enumerate(gold)]
    p = [x if x is not None else ("none", i) for i, x in enumerate(pred)]
    precision = recall = Fraction(0)
    for i in range(n):
        both = sum(1 for j in range(n) if g[j] == g[i] and p[j] == p[i])
        precision += Fraction(both, sum(1 for j in range(n) if p[j] == p[i]))
        recall += Fraction(both, sum(1 for j in range(n) if g[j] == g[i]))
    return float(precision / n), float(recall / n)


def brute_pairs(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> tuple[int, int, int]:
    """Gold, predicted and true pairs by enumerating every pair."""
    counts = [0, 0, 0]
    for i, j in itertools.combinations(range(len(gold)), 2):
        same_gold = gold[i] is not None and gold[i] == gold[j]
        same_pred = pred[i] is not None and pred[i] == pred[j]
        counts[0] += same_gold
        counts[1] += same_pred
        counts[2] += same_gold and same_pred
    return counts[0], counts[1], counts[2]


@given(label_pairs)
def test_bcubed_swapping_gold_and_pred_swaps_precision_and_recall(
    pair: tuple[list[int], list[int | None]],
) -> None:
    gold, pred = pair
    p, r, f = bcubed(gold, pred)
    p2, r2, f2 = bcubed(pred, gold)
    assert p == pytest.approx(r2)
    assert r == pytest.approx(p2)
    assert f == pytest.approx(f2)


@given(label_pairs)
def test_bcubed_matches_the_definition(pair: tuple[list[int], list[int | None]]) -> None:
    gold, pred = pair
    assert bcubed(gold, pred)[:2] == pytest.approx(brute_bcubed(gold, pred))


@given(labels)
def test_bcubed_of_a_clustering_with_itself_is_one(gold: list[int]) -> None:
    assert bcubed(gold, [f"renamed-{x}" for x in gold]) == (1.0, 1.0, 1.0)


@given(label_pairs)
def test_score_pairs_matches_enumeration_and_is_symmetric(
    pair: tuple[list[int], list[int | None]],
) -> None:
    gold, pred = pair
    ids = [f"id{i}" for i in range(len(gold))]
    gold_map, pred_map = dict(zip(ids, gold, strict=True)), dict(zip(ids, pred, strict=True))
    scores = score_pairs(gold_map, pred_map)
    assert (scores.gold_pairs, scores.pred_pairs, scores.true_pairs) == brute_pairs(gold, pred)
    swapped = score_pairs(pred_map, gold_map)
    assert (swapped.precision, swapped.recall) == (scores.recall, scores.precision)


# --------------------------------------------------------------------------- loading and errors


@needs_data
def test_evaluate_ktlab_gold_against_itself() -> None:
    scores = evaluate(KTLAB, KTLAB, level="story")
    assert isinstance(scores, ClusterScores)
    assert (scores.n_items, scores.n_gold, scores.n_pred) == (628, 199, 199)
    assert (scores.bcubed_f1, scores.ari, scores.nmi) == (1.0, 1.0, 1.0)


@needs_data
def test_evaluate_ecbplus_events_against_itself() -> None:
    scores = evaluate(ECBPLUS, ECBPLUS, level="event")
    assert isinstance(scores, ClusterScores)
    assert (scores.n_items, scores.n_gold, scores.bcubed_f1) == (496, 42, 1.0)


@needs_data
def test_evaluate_ktlab_predictions_all_in_one_story(tmp_path: Path) -> None:
    gold = load_jsonl_labels(KTLAB, "story")
    pred = [{"id": i, "duplicate_of": None, "event": "e0", "story": "s0"} for i in gold]
    scores = evaluate(write_jsonl(tmp_path / "pred.jsonl", pred), KTLAB, level="story")
    sizes: dict[Hashable, int] = {}
    for story in gold.values():
        sizes[story] = sizes.get(story, 0) + 1
    assert isinstance(scores, ClusterScores)
    assert scores.n_pred == 1
    assert scores.bcubed_recall == 1.0
    assert scores.bcubed_precision == pytest.approx(sum(s * s for s in sizes.values()) / 628**2)


@needs_data
def test_evaluate_ktlab_copy_with_a_missing_prediction(tmp_path: Path) -> None:
    gold_copy = tmp_path / "gold.jsonl"
    shutil.copy(KTLAB, gold_copy)
    lines = gold_copy.read_text("utf-8").splitlines(keepends=True)
    first_id = json.loads(lines[0])["id"]
    pred = tmp_path / "pred.jsonl"
    pred.write_text("".join(lines[1:]), "utf-8")
    with pytest.raises(InputError) as info:
        evaluate(pred, gold_copy, level="story")
    assert first_id == "ktlab/cluster_1/12240106"
    assert str(info.value) == (
        f"{pred}: 1 gold ids missing from the predictions, e.g. 'ktlab/cluster_1/12240106'"
    )


@needs_data
def test_evaluate_ktlab_has_no_event_level() -> None:
    with pytest.raises(InputError) as info:
        evaluate(KTLAB, KTLAB, level="event")
    assert str(info.value) == (
        f"{KTLAB}: no gold 'event' labels: the field is null or the file is empty"
    )


def test_evaluate_drops_null_gold_and_ignores_extra_predictions(tmp_path: Path) -> None:
    gold = write_jsonl(
        tmp_path / "gold.jsonl",
        [{"id": "a", "event": "x"}, {"id": "b", "event": "x"}, {"id": "c", "event": None}],
    )
    pred = write_jsonl(
        tmp_path / "pred.jsonl",
        [{"id": "a", "event": "1"}, {"id": "b", "event": "2"}, {"id": "z", "event": "1"}],
    )
    scores = evaluate(pred, gold, level="event")
    # a and b only; they are split: P = 1, R = (1/2 + 1/2) / 2 = 1/2.
    assert isinstance(scores, ClusterScores)
    assert (scores.n_items, scores.bcubed_precision, scores.bcubed_recall) == (2, 1.0, 0.5)


def test_evaluate_duplicates_from_gold_duplicate_of(tmp_path: Path) -> None:
    # gold: a -> b, c -> b, d alone: 3 pairs. pred: a -> b, c alone, d -> c: pairs ab, cd.
    # true ab: P = 1/2, R = 1/3, F1 = 2 * 1/6 / (5/6) = 2/5.
    gold_edges = [("a", "b"), ("b", None), ("c", "b"), ("d", None)]
    gold = write_jsonl(
        tmp_path / "gold.jsonl", [{"id": i, "duplicate_of": t} for i, t in gold_edges]
    )
    pred = write_jsonl(
        tmp_path / "pred.jsonl",
        [
            {"id": i, "duplicate_of": t, "similarity": s, "event": "e", "story": "s"}
            for i, t, s in [("a", "b", 0.9), ("b", None, None), ("c", None, None), ("d", "c", 0.8)]
        ],
    )
    scores = evaluate(pred, gold, level="duplicates")
    assert scores == PairScores(4, 3, 2, 1, 0.5, pytest.approx(1 / 3), pytest.approx(2 / 5))


def test_evaluate_duplicates_from_gold_dup_group(tmp_path: Path) -> None:
    # gold groups g1 = {a, b, c} (3 pairs), d ungrouped (null); pred a -> b, c -> a: all 3 found.
    groups = [("a", "g1"), ("b", "g1"), ("c", "g1"), ("d", None)]
    edges = [("a", "b"), ("b", None), ("c", "a"), ("d", None)]
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"id": i, "dup_group": g} for i, g in groups])
    pred = write_jsonl(tmp_path / "pred.jsonl", [{"id": i, "duplicate_of": t} for i, t in edges])
    scores = evaluate(pred, gold, level="duplicates")
    assert scores == PairScores(4, 3, 3, 3, 1.0, 1.0, 1.0)


def test_evaluate_duplicates_errors(tmp_path: Path) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"id": "a", "story": "s"}])
    pred = write_jsonl(tmp_path / "pred.jsonl", [{"id": "b", "duplicate_of": None}])
    with pytest.raises(InputError) as info:
        evaluate(pred, gold, level="duplicates")
    assert str(info.value) == (
        f"{gold}:1: no field 'duplicate_of' (id or null) or 'dup_group' to score duplicates"
    )
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"id": "a", "dup_group": 1}])
    with pytest.raises(InputError) as info:
        evaluate(pred, gold, level="duplicates")
    assert str(info.value) == f"{pred}: no id in common with the gold file {str(gold)!r}"


@pytest.mark.parametrize("level", ["topic", "", "Story"])
def test_evaluate_rejects_unknown_level(tmp_path: Path, level: str) -> None:
    with pytest.raises(ConfigError) as info:
        evaluate(tmp_path / "pred.jsonl", tmp_path / "gold.jsonl", level=level)
    assert str(info.value) == (
        f"level must be one of 'story', 'event', 'duplicates'; got {level!r}"
    )


def test_load_jsonl_labels_reads_ids_and_values(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    lines = [
        '\ufeff{"id": "a", "story": "s1"}',
        "",
        "  ",
        '{"id": 7, "story": null}',
        '{"id": "c", "story": 3}',
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert load_jsonl_labels(path, "story") == {"a": "s1", "7": None, "c": 3}


BAD_LINES = [
    # (file content, expected "LINE: reason")
    (
        '{"id": "a", "story": "s"}\n{"id": "b", "story": \n',
        "2: invalid JSON: Expecting value (column 22)",
    ),
    ('["a", "s"]\n', "1: expected a JSON object, got an array"),
    ('{"story": "s"}\n', "1: missing field 'id'; the record has 'story'"),
    (
        '{"id": "a", "title": "t", "event": "e"}\n',
        "1: missing field 'story'; the record has 'event', 'id', 'title'",
    ),
    ('{"id": null, "story": "s"}\n', "1: field 'id' must be a string or an integer, got null"),
    ('{"id": 1.5, "story": "s"}\n', "1: field 'id' must be a string or an integer, got a number"),
    ('{"id": true, "story": "s"}\n', "1: field 'id' must be a string or an integer, got a boolean"),
    (
        '{"id": "a", "story": ["s"]}\n',
        "1: field 'story' must be a string, number or null, got an array",
    ),
    ('{"id": "a", "story": "s"}\n\n{"id": "a", "story": "t"}\n', "3: id 'a' already on line 1"),
]


@pytest.mark.parametrize(("content", "reason"), BAD_LINES)
def test_load_jsonl_labels_errors(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, "utf-8")
    with pytest.raises(InputError) as info:
        load_jsonl_labels(path, "story")
    assert str(info.value) == f"{path}:{reason}"
    assert info.value.line_no == int(reason.split(":")[0])


def test_load_jsonl_labels_bad_bytes_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"id": "a", "story": "s"}\n{"id": "b", "story": "caf\xe9"}\n')
    with pytest.raises(InputError) as info:
        load_jsonl_labels(path, "story")
    assert str(info.value) == f"{path}:2: not valid UTF-8"
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InputError) as info:
        load_jsonl_labels(missing, "story")
    assert str(info.value) == f"{missing}: cannot open: No such file or directory"


def test_evaluate_reports_a_malformed_prediction_line(tmp_path: Path) -> None:
    gold = write_jsonl(tmp_path / "gold.jsonl", [{"id": "a", "story": "s"}])
    pred = tmp_path / "pred.jsonl"
    pred.write_text('{"id": "a", "story": "1"}\n{"id": "b"}\n', "utf-8")
    with pytest.raises(InputError) as info:
        evaluate(pred, gold, level="story")
    assert str(info.value) == f"{pred}:2: missing field 'story'; the record has 'id'"
