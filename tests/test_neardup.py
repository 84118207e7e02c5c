from datetime import datetime

import numpy as np
from conftest import body

from dedup.neardup import NearDuplicateFinder, UnionFind
from dedup.normalize import normalize_text
from dedup.shingle import Hasher, tokenize


def shingles(texts):
    hasher = Hasher()
    return [hasher.shingles(tokenize(normalize_text(t)), 5) for t in texts]


def find(texts, published=None):
    sets = shingles(texts)
    return NearDuplicateFinder().fit(
        sets,
        ids=[str(i) for i in range(len(texts))],
        published=published or [None] * len(texts),
        lengths=[len(t) for t in texts],
    )


def test_union_find_groups():
    sets = UnionFind(6)
    sets.union(4, 1)
    sets.union(1, 3)
    assert sets.groups() == [[1, 3, 4]]


def test_planted_copies_found_hard_negatives_kept_apart():
    original = body(0, 12)
    other = body(20, 10)
    texts = [
        "\n".join(original),  # 0 original
        "\n".join(["VnMedia - Tin nóng", *original, "Ý kiến bạn đọc"]),  # 1 another outlet's frame
        "\n".join(original[:7]),  # 2 tail cut
        "\n".join(original).replace("Putin", "Vladimir Putin").replace("Nga", "Liên bang Nga"),  # 3
        "\n".join(original).upper(),  # 4 case noise
        "\n".join([*other, original[0], original[5]]),  # 5 same story, shares two paragraphs
        "\n".join(other[:3] + body(40, 8)),  # 6 unrelated
    ]
    finder = find(texts)
    assert finder.groups_ == [[0, 1, 2, 3, 4]]
    assert finder.canonical_[5] == 5
    assert finder.canonical_[6] == 6


def test_every_candidate_is_verified():
    texts = ["\n".join(body(0, 10)), "\n".join(body(0, 3) + body(30, 7))]
    finder = find(texts)
    assert finder.groups_ == []


def test_canonical_is_earliest_then_longest():
    original = "\n".join(body(0, 10))
    texts = [original + "\nThêm một đoạn cuối bài.", original, original]
    dates = [datetime(2020, 1, 2), datetime(2020, 1, 1), None]
    finder = find(texts, dates)
    assert finder.canonical_ == [1, 1, 1]
    finder = find(texts)
    assert finder.canonical_ == [0, 0, 0]  # no dates: the longest
    assert finder.similarity_[0] is None
    assert 0.9 < finder.similarity_[1] <= 1.0


def test_empty_and_tiny_texts():
    finder = find(["", "", "ngắn", "ngắn", "khác"])
    assert finder.groups_ == [[2, 3]]


def test_group_does_not_depend_on_input_order():
    texts = ["\n".join(body(0, 10)), "\n".join(body(0, 8)), "\n".join(body(30, 10))]
    forward = find(texts)
    backward = find(texts[::-1])
    as_ids = {frozenset(g) for g in forward.groups_}
    mirrored = {frozenset(len(texts) - 1 - i for i in g) for g in backward.groups_}
    assert as_ids == mirrored
    assert np.array_equal(forward.canonical_, [0, 0, 2])


def _reference_fit(sets, config):
    """NearDuplicateFinder.fit's groups as the per-document loop of stop 20 found them."""
    from dedup.neardup import is_near_duplicate
    from dedup.shingle import Permutations, lsh_candidates

    union = UnionFind(len(sets))
    first_seen, indexed = [], []
    for i, s in enumerate(sets):
        if len(s) == 0:
            continue
        same = next((j for j in first_seen if np.array_equal(sets[j], s)), None)
        if same is not None:
            union.union(same, i)
            continue
        first_seen.append(i)
        if len(s) >= config.min_shingles:
            indexed.append(i)
    signatures = Permutations(128, 1).signatures([sets[i] for i in indexed])
    for earlier, later in lsh_candidates(signatures, config.lsh_threshold).tolist():
        if is_near_duplicate(sets[indexed[later]], sets[indexed[earlier]], config):
            union.union(indexed[later], indexed[earlier])
    return union


def test_fit_equals_the_document_by_document_loop():
    from dedup.neardup import similarity

    rng = np.random.default_rng(3)
    base = [np.sort(rng.choice(2**40, size=size, replace=False)).astype(np.uint64) for size in
            (40, 40, 60, 200)]  # fmt: skip
    sets = []
    for n in range(120):
        source = base[n % len(base)]
        kind = n % 7
        if kind == 0:
            sets.append(source.copy())  # an exact copy
        elif kind == 1:  # the same size, least and greatest hash, one hash changed
            changed = source.copy()
            changed[len(changed) // 2] = changed[len(changed) // 2 - 1] + np.uint64(1)
            sets.append(np.unique(changed) if len(np.unique(changed)) < len(changed) else changed)
        elif kind == 2:
            sets.append(source[: int(len(source) * rng.uniform(0.5, 1.0))])  # truncated
        elif kind == 3:
            sets.append(np.zeros(0, dtype=np.uint64))  # empty
        elif kind == 4:
            sets.append(np.sort(rng.choice(2**40, size=8, replace=False)).astype(np.uint64))
        elif kind == 5:
            keep = rng.random(len(source)) < 0.9
            sets.append(source[keep])
        else:  # the same size, least and greatest hash, nothing else shared
            low, high = int(source[0]), int(source[-1])
            middle = rng.permutation(np.unique(rng.integers(low + 1, high, size=len(source))))
            middle = np.sort(middle[: len(source) - 2]).astype(np.uint64)
            other = np.concatenate([source[:1], middle, source[-1:]])
            assert len(np.unique(other)) == len(source)
            assert len(np.intersect1d(other, source)) <= len(source) // 4
            sets.append(other)
    finder = NearDuplicateFinder().fit(
        sets, ids=[str(i) for i in range(len(sets))], published=[None] * len(sets),
        lengths=[len(s) for s in sets],
    )  # fmt: skip
    reference = _reference_fit(sets, finder.config)
    assert finder.groups_ == reference.groups() and len(finder.groups_) == len(base)
    for k, canonical in enumerate(finder.canonical_):
        if canonical != k:
            assert finder.similarity_[k] == round(similarity(sets[k], sets[canonical]), 4)


def test_union_find_groups_are_those_of_find():
    rng = np.random.default_rng(5)
    sets = UnionFind(300)
    for a, b in rng.integers(0, 300, size=(150, 2)).tolist():
        sets.union(a, b)
    members: dict[int, list[int]] = {}
    for x in range(300):
        members.setdefault(sets.find(x), []).append(x)
    assert sets.groups() == [m for m in members.values() if len(m) > 1]
    assert UnionFind(0).groups() == []
