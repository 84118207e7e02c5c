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
