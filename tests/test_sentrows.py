"""Tokens sent once per worker: the parent reads the same ids as from every string."""

import numpy as np
import pytest

from dedup.config import PipelineConfig
from dedup.paragraphs import ParagraphCleaner
from dedup.parallel import clean_task, unpack
from dedup.sentrows import RowIds, SentRows
from dedup.tfidf import Vocabulary


def articles(start: int, count: int) -> list[tuple]:
    """Articles sharing many words, each with a few of its own, and a capitalised name."""
    return [
        (n, f"a{n}", f"Tin mới về Hà Nội hôm nay.\nMột câu riêng số {n} và từ{n % 7}.", None, None)
        for n in range(start, start + count)
    ]


def test_tokens_sent_once_read_as_the_same_ids() -> None:
    config = PipelineConfig()
    tasks = [articles(0, 5), articles(5, 5), articles(10, 5)]
    everything, once = Vocabulary(), Vocabulary()
    row_ids = RowIds(once)
    cleaner, sent = ParagraphCleaner(), SentRows()
    plain_cleaner = ParagraphCleaner()
    for task in tasks:
        plain = list(unpack(clean_task(plain_cleaner, config, task, names=True), everything))
        packed = clean_task(cleaner, config, task, names=True, sent=sent)
        fewer = list(unpack(packed, row_ids))
        for (p1, t1, s1, n1), (p2, t2, s2, n2) in zip(plain, fewer, strict=True):
            assert p1 == p2 and np.array_equal(t1, t2) and np.array_equal(n1, n2)
            assert np.array_equal(s1, s2)
    assert list(everything.tokens()) == list(once.tokens())
    assert not packed.fresh.all()  # the later tasks named shared words by row
    # ... and the name every article holds by its number: its string crossed once
    assert any("hà nội" in s for s in plain_vocabulary(tasks[-1], config))
    assert not any("hà nội" in s for s in packed.vocabulary)


def plain_vocabulary(task: list[tuple], config: PipelineConfig) -> list[str]:
    """The strings one task sends with nothing sent before."""
    return clean_task(ParagraphCleaner(), config, task, names=True, sent=SentRows()).vocabulary


def test_rows_sent_before_cannot_be_read_by_another_reader() -> None:
    config, cleaner, sent = PipelineConfig(), ParagraphCleaner(), SentRows()
    clean_task(cleaner, config, articles(0, 3), sent=sent)
    packed = clean_task(cleaner, config, articles(3, 3), sent=sent)
    with pytest.raises(ValueError, match="not read"):
        list(unpack(packed, RowIds(Vocabulary())))
