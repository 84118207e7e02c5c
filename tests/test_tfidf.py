"""The fast TF-IDF equals scikit-learn's TfidfVectorizer over dedup's features."""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import body, dev_records
from hypothesis import given
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize

from dedup.features import document_features, name_sequences
from dedup.normalize import normalize_text
from dedup.shingle import tokenize
from dedup.tfidf import Vocabulary, count_matrix, normalize_rows, tfidf_from_tokens


def tfidf_matrix(docs, *, min_df=1):
    """The reference: scikit-learn's TfidfVectorizer over dedup's feature lists."""
    counts = {}
    for doc in docs:
        for term in set(doc):
            counts[term] = counts.get(term, 0) + 1
    kept = [[t for t in doc if counts[t] >= min_df] for doc in docs] if min_df > 1 else docs
    if not any(kept):
        return sp.csr_matrix((len(docs), 0), dtype=np.float32), np.array([], dtype=object)
    vectorizer = TfidfVectorizer(
        analyzer=lambda doc: doc, sublinear_tf=True, smooth_idf=min_df < 2, dtype=np.float32
    )
    return sp.csr_matrix(vectorizer.fit_transform(kept)), vectorizer.get_feature_names_out()


def same(bodies, titles, weight, names=None, min_df=1):
    docs = [
        document_features(b, t, names[i] if names else (), title_weight=weight, name_weight=1)
        for i, (b, t) in enumerate(zip(bodies, titles, strict=True))
    ]
    reference, reference_names = tfidf_matrix(docs, min_df=min_df)
    fast, fast_names = tfidf_from_tokens(
        bodies, titles, names, title_weight=weight, name_weight=1, min_df=min_df
    )
    assert list(fast_names) == list(reference_names)
    assert fast.shape == reference.shape
    assert abs(fast - reference).max() <= 1e-6 if fast.nnz else reference.nnz == 0
    assert np.array_equal(np.sort(fast.data), np.sort(reference.data))


@pytest.mark.parametrize(
    ("weight", "with_names", "min_df"), [(0, False, 1), (1, True, 1), (2, True, 2), (5, False, 3)]
)
def test_real_articles(weight, with_names, min_df):
    bodies, titles, names = ktlab_features(150)
    same(bodies, titles, weight, names if with_names else None, min_df)


def test_short_empty_and_repeated_documents():
    bodies = [[], ["một"], ["một", "một", "hai"], tokenize(normalize_text(body(0, 2)[0]))]
    titles = [["một"], [], ["hai", "ba"], []]
    same(bodies, titles, 2)


def test_token_ids_give_the_matrix_of_strings(monkeypatch):
    """The pipeline's form (ids of one shared vocabulary), counted in several blocks."""
    import dedup.tfidf

    bodies, titles, names = ktlab_features(120)
    strings = tfidf_from_tokens(bodies, titles, names, title_weight=2, name_weight=1, min_df=2)
    vocabulary = Vocabulary()
    ids = [[vocabulary.ids(doc) for doc in docs] for docs in (titles, names, bodies)]
    monkeypatch.setattr(dedup.tfidf, "_BLOCK_TOKENS", 5000)  # many blocks
    matrix, feature_names = tfidf_from_tokens(
        ids[2], ids[0], ids[1], title_weight=2, name_weight=1, min_df=2, vocabulary=vocabulary
    )
    assert list(feature_names) == list(strings[1])
    assert (matrix != strings[0]).nnz == 0


def ktlab_features(count):
    records = dev_records("ktlab.jsonl", count)
    bodies = [tokenize(normalize_text(r["text"])) for r in records]
    titles = [tokenize(normalize_text(r["title"] or "")) for r in records]
    names = [name_sequences(f"{r['title'] or ''}. {r['text']}") for r in records]
    return bodies, titles, names


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("min_df", [1, 2, 3])
def test_document_frequencies_merged_in_parts_give_the_same_matrix(monkeypatch, min_df, compiled):
    """Blocks' counts merged many times (small blocks, small merges) or once: one matrix.

    ``compiled``: the many merges by the compiled kernel (the whole one by a sort).
    """
    import dedup.tfidf
    from dedup import compiled as compiled_kernels

    if compiled and not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    bodies, titles, names = ktlab_features(120)
    whole, whole_names = count_matrix(
        bodies, titles, names, title_weight=2, name_weight=1, min_df=min_df
    )
    monkeypatch.setattr(dedup.tfidf, "_BLOCK_TOKENS", 3000)
    monkeypatch.setattr(dedup.tfidf, "_MERGE_KEYS", 500)
    monkeypatch.setattr(dedup.tfidf, "_COMPILED_KEYS", 0 if compiled else 1 << 62)
    parts, parts_names = count_matrix(
        bodies, titles, names, title_weight=2, name_weight=1, min_df=min_df
    )
    assert list(parts_names) == list(whole_names)
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(parts, name), getattr(whole, name))


@pytest.mark.parametrize("blocks", [False, True])
@pytest.mark.parametrize("min_df", [1, 2])
def test_weights_are_scikit_learns_bit_for_bit(monkeypatch, min_df, blocks):
    """The in-place weighting gives TfidfTransformer's float32 values exactly.

    ``blocks``: weighed in blocks of 37 entries on threads (most start off any SIMD
    alignment), the document frequencies counted compiled when numba is installed.
    """
    import dedup.tfidf

    bodies, titles, names = ktlab_features(150)
    options = {"title_weight": 2, "name_weight": 1, "min_df": min_df}
    counts, _ = count_matrix(bodies, titles, names, **options)
    transformer = TfidfTransformer(sublinear_tf=True, smooth_idf=min_df < 2)
    reference = sp.csr_matrix(transformer.fit_transform(counts))
    if blocks:
        monkeypatch.setattr(dedup.tfidf, "_BLOCK_TOKENS", 37)
        monkeypatch.setattr(dedup.tfidf, "_COMPILED_KEYS", 0)
    fast, _ = tfidf_from_tokens(bodies, titles, names, **options)
    assert fast.dtype == reference.dtype == np.float32
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(fast, name), getattr(reference, name))


def test_csr_order_is_lexsorts_with_and_without_packed_counts():
    from dedup.tfidf import _as_strings, _csr_order

    rng = np.random.default_rng(3)
    for width in (50, 2**56):  # counts packed in the keys; too wide: an argsort of the keys
        cells = rng.choice(40 * 50, 500, replace=False)
        rows, columns = cells // 50, (cells % 50) * (width // 50)
        counts = rng.integers(1, 300, len(cells)).astype(np.float32)
        order = np.lexsort((columns, rows))
        got_columns, got_counts = _csr_order(rows, columns, counts, width)
        assert np.array_equal(got_columns, columns[order])
        assert np.array_equal(got_counts, counts[order]) and got_counts.dtype == np.float32
    labels = np.array(["tin b", "tin", "Ánh", "ánh sáng", "a\ud800", "z"], dtype=object)
    for some in (labels, labels[:4]):  # with a lone surrogate: kept as str objects
        strings, order = _as_strings(some)
        assert np.array_equal(order, np.argsort(some, kind="stable"))
        assert [str(s) for s in strings] == list(some)


def test_compiled_merge_of_count_runs_is_the_sorts():
    import dedup.tfidf
    from dedup import compiled as compiled_kernels

    if not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    rng = np.random.default_rng(2)
    runs = []
    for size in (0, 1, 40, 300, 7, 300, 0, 55):
        keys = np.unique(rng.integers(0, 500, size=size))
        runs.append((keys, rng.integers(1, 9, size=len(keys))))
    expected = dedup.tfidf._merge_counts(list(runs))  # below _COMPILED_KEYS: the sort
    got = dedup.tfidf._merged_compiled(list(runs))
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert len(expected[0]) > 300 and expected[1].sum() == sum(c.sum() for _, c in runs)


@pytest.mark.parametrize(
    ("block_entries", "compiled"), [(7, False), (1_000_000, False), (1_000_000, True)]
)
def test_normalize_rows_gives_scikit_learns_bits(monkeypatch, block_entries, compiled):
    """Rows scaled in place with scikit-learn's bits: rows with no entry or only zeros, tiny and
    huge values, in blocks of a few entries (each a few whole rows) or in one block, or compiled."""
    import dedup.tfidf
    from dedup import compiled as compiled_kernels

    if compiled and not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")

    monkeypatch.setattr(dedup.tfidf, "_BLOCK_TOKENS", block_entries)
    rng = np.random.default_rng(5)
    matrix = sp.random(300, 80, density=0.1, format="csr", dtype=np.float32, random_state=rng)
    matrix.data *= rng.choice(np.array([1e-20, 1e-3, 1.0, 1e15], dtype=np.float32), matrix.nnz)
    emptied = np.ones(300, dtype=np.float32)
    emptied[[0, 7, 299]] = 0.0
    matrix = sp.csr_matrix(sp.diags(emptied) @ matrix)
    matrix.eliminate_zeros()  # rows 0, 7 and 299 have no entry
    matrix.data[matrix.indptr[3] : matrix.indptr[4]] = 0.0  # row 3: only stored zeros
    assert matrix.indptr[4] > matrix.indptr[3]
    matrix.sort_indices()
    reference = normalize(matrix.copy(), norm="l2", copy=False)
    normalize_rows(matrix, compiled=compiled)
    assert matrix.dtype == reference.dtype
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(matrix, name), getattr(reference, name))
    assert 0 < matrix.data.max() <= 1.0


@pytest.mark.parametrize(("title_weight", "name_weight"), [(2, 1), (0, 3), (5, 0), (0, 0)])
def test_compiled_rows_are_the_sorts_rows(monkeypatch, title_weight, name_weight):
    """The compiled kernels' document frequencies (tokens counted in place, pairs sorted per
    document) and count rows (hashed pair columns, radix-sorted rows) equal numpy's."""
    import dedup.tfidf
    from dedup import compiled as compiled_kernels

    if not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    bodies, titles, names = ktlab_features(200)
    options = {"title_weight": title_weight, "name_weight": name_weight, "min_df": 2}
    monkeypatch.setattr(dedup.tfidf, "_BLOCK_TOKENS", 4000)  # rows of many blocks, 2 threads
    monkeypatch.setattr(dedup.tfidf, "_COMPILED_KEYS", 1 << 62)
    expected, expected_names = count_matrix(bodies, titles, names, **options)
    monkeypatch.setattr(dedup.tfidf, "_COMPILED_KEYS", 0)
    stack_rows, stacked = dedup.tfidf._stack_rows, []

    def sorted_stack_rows(pieces, shape):  # each row comes in column order, as CSR wants it
        for sizes, columns, _ in pieces:
            ends = np.cumsum(sizes)
            steps = np.diff(columns.astype(np.int64))
            inside = np.ones(len(steps), dtype=bool)
            inside[ends[:-1][ends[:-1] < len(columns)] - 1] = False  # a step to the next row
            assert (steps[inside] > 0).all()
            stacked.append(len(columns))
        return stack_rows(pieces, shape)

    monkeypatch.setattr(dedup.tfidf, "_stack_rows", sorted_stack_rows)
    got, got_names = count_matrix(bodies, titles, names, **options)
    assert len(stacked) > 0
    assert list(got_names) == list(expected_names)
    assert expected.shape[1] > 256  # rows sorted on more than one byte of their columns
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(got, name), getattr(expected, name))


def test_key_table_finds_every_key_and_no_other_even_when_all_collide():
    from dedup import compiled as compiled_kernels

    if not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    from dedup import kernels

    rng = np.random.default_rng(5)
    candidates = [int(k) for k in np.unique(rng.integers(0, 2**50, 40_000))]
    bits = 7  # a table of 128 slots; the hash is the product's top bits (Fibonacci hashing)
    slot = {k: ((k * 0x9E3779B97F4A7C15) % 2**64) >> (64 - bits) for k in candidates}
    same_slot = [k for k in candidates if slot[k] == 5]  # about 300 keys
    spread = np.array(candidates[:60], dtype=np.int64)
    colliding = np.array(same_slot[:60], dtype=np.int64)  # a run of 60 probes
    for keys, absent in ((spread, candidates[60:600]), (colliding, same_slot[60:])):
        table = np.full(1 << bits, -1, dtype=np.int32)
        kernels.key_table(keys, 64 - bits, table)
        assert all(kernels.find_key(k, keys, 64 - bits, table) == i for i, k in enumerate(keys))
        assert all(kernels.find_key(k, keys, 64 - bits, table) == -1 for k in absent)


def test_radix_sort_of_a_row():
    from dedup import compiled as compiled_kernels

    if not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    from dedup import kernels

    rng = np.random.default_rng(8)
    for digits, count in ((1, 0), (1, 300), (3, 700), (4, 50)):
        values = rng.integers(0, min(256**digits, 2**31), 900).astype(np.int32)
        sorted_ = kernels._radix_sorted(values.copy(), count, np.empty_like(values), digits)
        assert np.array_equal(sorted_[:count], np.sort(values[:count]))


@pytest.mark.parametrize("controls", [False, True])
def test_feature_order_is_strs_for_tokens_that_extend_each_other(monkeypatch, controls):
    """Tokens that extend others by characters just above the pairs' space, or (name
    features) by a space after what begins no pair: the columns are in scikit-learn's (str)
    order, ranked by token. With ``controls``, tokens that extend a pair's first token by a
    character below the space: sorted as strings."""
    import dedup.tfidf

    breaks = dedup.tfidf._breaks_rank_order
    found = []
    monkeypatch.setattr(
        dedup.tfidf, "_breaks_rank_order", lambda *a: found.append(breaks(*a)) or found[-1]
    )
    tokens = ["a", "ab", "a!", "a0", "b", "à", "a\u00a0b", "z", "ab!", "\u2063name:a b"]
    if controls:
        tokens += ["a\tb", "a\x01"]
    rng = np.random.default_rng(2)
    bodies = [list(rng.choice(tokens, 12)) for _ in range(40)]
    titles = [list(rng.choice(tokens, 3)) for _ in range(40)]
    same(bodies, titles, 1)
    assert found == [controls]


@given(
    st.lists(st.text("ab \t!\u2063", min_size=1, max_size=4), min_size=1, max_size=12, unique=True),
    st.data(),
)
def test_rank_order_check_looks_at_neighbours_only(tokens, data):
    from numpy.dtypes import StringDType

    import dedup.tfidf

    indices = st.lists(st.integers(0, len(tokens) - 1), max_size=len(tokens))
    words, firsts = (np.array(data.draw(indices), dtype=np.int64) for _ in range(2))
    strings = np.array(tokens, dtype=StringDType())
    by_string = np.argsort(strings, kind="stable")
    begins_pairs = set(firsts.tolist())
    named = begins_pairs | set(words.tolist())
    expected = any(  # every named token, every character up to the space in it
        tokens[t][at] <= " " and tokens[t][:at] in tokens
        and tokens.index(tokens[t][:at]) in begins_pairs
        for t in named
        for at in range(len(tokens[t]))
    )  # fmt: skip
    assert dedup.tfidf._breaks_rank_order(strings, words, firsts, by_string) == expected


def test_feature_names_are_made_when_asked_for(monkeypatch):
    import dedup.tfidf

    bodies, titles, names = ktlab_features(60)
    options = dict(title_weight=2, name_weight=1, min_df=2)
    _, got = count_matrix(bodies, titles, names, **options)
    vectorizer_names = list(got)
    assert got[3] == vectorizer_names[3] and got[-1] == vectorizer_names[-1]
    assert any(" " in name for name in vectorizer_names)  # pairs are named "first second"
    columns = np.array([5, 0, len(got) - 1, 5])
    assert [str(n) for n in got[columns]] == [vectorizer_names[c] for c in columns.tolist()]
    assert [str(n) for n in np.asarray(got)] == vectorizer_names
    assert got[10:20].tolist() == vectorizer_names[10:20]
    # Without numpy's strings (numpy < 2, a lone surrogate), the same names as str objects.
    monkeypatch.setattr(dedup.tfidf, "_as_strings", lambda t: (t, np.argsort(t, kind="stable")))
    _, plain = count_matrix(bodies, titles, names, **options)
    assert list(plain) == vectorizer_names
    assert plain[columns].tolist() == got[columns].tolist()


def test_stacked_rows_are_the_blocks_joined_and_the_blocks_are_freed():
    import weakref

    from dedup.tfidf import _stack_rows

    rng = np.random.default_rng(7)
    sizes = [rng.integers(0, 5, size=n) for n in (3, 0, 7, 1, 4)]
    pieces = [
        (
            s,
            rng.integers(0, 50, size=int(s.sum())).astype(np.int32),
            rng.random(int(s.sum()), dtype=np.float32),
        )
        for s in sizes
    ]
    expected = [np.concatenate([p[k] for p in pieces]) for k in range(3)]
    held = [weakref.ref(array) for p in pieces for array in p[1:]]
    matrix = _stack_rows(pieces, (15, 50))
    assert pieces == []
    assert np.array_equal(np.diff(matrix.indptr), expected[0])
    assert np.array_equal(matrix.indices, expected[1]) and np.array_equal(matrix.data, expected[2])
    assert all(ref() is None for ref in held)  # nothing kept of the blocks
