import numpy as np
import pytest
import scipy.sparse as sp

from dedup import terms
from dedup.features import NAME_PREFIX


def reference_terms(matrix, names, rows, wanted):
    """One cluster's terms from its own dense centroid (float32, summed in member order)."""
    centroid = np.zeros(matrix.shape[1], dtype=np.float32)
    for row in rows:  # one row at a time: each column summed in member order
        centroid += matrix[row].toarray().ravel()
    centroid /= max(len(rows), 1)
    order = np.lexsort((np.arange(len(centroid)), -centroid))
    shown = dict.fromkeys(str(names[c]).removeprefix(NAME_PREFIX) for c in order if centroid[c] > 0)
    return tuple(shown)[:wanted]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("batch_entries", [1, 40, 1 << 24])
def test_cluster_terms_equal_each_centroid_ranked_alone(monkeypatch, batch_entries, compiled):
    from dedup import compiled as compiled_kernels

    if compiled and not compiled_kernels.available():
        pytest.skip("numba is not installed (the fast extra)")
    monkeypatch.setattr(terms, "_BATCH_ENTRIES", batch_entries)
    rng = np.random.default_rng(7)
    n, width = 60, 30
    # Few distinct weights: many ties, which must fall to the smaller column.
    dense = rng.choice([0, 0, 0, 0.25, 0.5, 1.0], size=(n, width)).astype(np.float32)
    dense[rng.random((n, width)) < 0.2] = np.float32(1 / 3)  # sums that round in float32
    matrix = sp.csr_matrix(dense)
    matrix.data[::7] = 0.0  # explicit zeros: never a term
    names = np.array(
        [f"w{c % 10}" if c % 3 else f"{NAME_PREFIX}w{c % 10}" for c in range(width)],
        dtype=object,
    )
    clusters = [rng.permutation(n)[: rng.integers(1, 12)].tolist() for _ in range(25)] + [[5], []]
    got = terms.cluster_terms(matrix, names, clusters, 4, compiled=compiled)
    assert got == [reference_terms(matrix, names, rows, 4) for rows in clusters]
    assert any(len(t) == 4 for t in got) and () in got
    assert terms.cluster_terms(matrix, names, clusters, 0, compiled=compiled) == [()] * len(
        clusters
    )
