"""The compiled kernels (numba): import this module only when :func:`dedup.compiled.available`.

Each kernel gives the bits its numpy twin gives (the tests compare them). Compiled on first
use and cached beside this module (module-level functions only: numba cannot cache closures).
"""

import heapq

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_jit = numba.njit(nogil=True, cache=True)  # no Python objects; the GIL released; cached


@intrinsic
def prefetch(typingctx, array, index):  # pragma: no cover - compiled
    """Ask the processor to fetch ``array[index]``'s cache line (a hint: no effect on results).

    LLVM's ``llvm.prefetch`` (for reading, kept in every cache level). An index past the end
    is harmless: a prefetch never faults.
    """
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        items = context.make_array(signature.args[0])(context, builder, args[0])
        at = context.cast(builder, args[1], signature.args[1], types.intp)
        byte_pointer = ir.IntType(8).as_pointer()
        word = ir.IntType(32)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [byte_pointer, word, word, word])
        )
        address = builder.bitcast(builder.gep(items.data, [at]), byte_pointer)
        # read (0), keep in every level (3), data (1)
        builder.call(function, [address, word(0), word(3), word(1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@_jit
def start():  # pragma: no cover - compiled
    """Nothing: calling it starts numba's compiler in this process (once, about 0.3 s)."""
    return 0


@_jit
def _block_sum(values, start, count):  # pragma: no cover - compiled
    """Numpy's pairwise sum of at most 128 values (``count`` at least 1): see below."""
    if count < 8:
        total = values[start]
        for i in range(1, count):
            total += values[start + i]
        return total
    r0, r1 = values[start], values[start + 1]
    r2, r3 = values[start + 2], values[start + 3]
    r4, r5 = values[start + 4], values[start + 5]
    r6, r7 = values[start + 6], values[start + 7]
    i = 8
    while i < count - count % 8:
        at = start + i
        r0 += values[at]
        r1 += values[at + 1]
        r2 += values[at + 2]
        r3 += values[at + 3]
        r4 += values[at + 4]
        r5 += values[at + 5]
        r6 += values[at + 6]
        r7 += values[at + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < count:
        total += values[start + i]
        i += 1
    return total


@_jit
def pairwise_sum(values, start, count):  # pragma: no cover - compiled
    """Numpy's pairwise sum of ``values[start:start + count]``, compiled (the same bits).

    The sum ``np.add.reduce`` (``values.sum()``) makes of a contiguous float array: below 8
    values one after another; up to 128 in 8 running sums then combined as a tree; past
    that, the two halves (the first a multiple of 8 long) summed so and added. ``count`` at
    least 1; the sum has the values' float type. Written without recursion: numba's cache
    of a recursive function crashes when loaded.
    """
    if count <= 128:
        return _block_sum(values, start, count)
    # The halving tree in post-order: a stack of ranges (with how many halves are done) and
    # a stack of the sums of finished ranges. Depth at most 64: the ranges halve.
    starts = np.empty(64, dtype=np.int64)
    counts = np.empty(64, dtype=np.int64)
    done = np.zeros(64, dtype=np.int64)
    sums = np.empty(64, dtype=values.dtype)
    depth, finished = 1, 0
    starts[0], counts[0], done[0] = start, count, 0
    while depth:
        top = depth - 1
        low, size = starts[top], counts[top]
        half = size // 2
        half -= half % 8
        if size <= 128:
            sums[finished] = _block_sum(values, low, size)
            finished += 1
            depth -= 1
        elif done[top] == 0:
            done[top] = 1
            starts[depth], counts[depth], done[depth] = low, half, 0
            depth += 1
        elif done[top] == 1:
            done[top] = 2
            starts[depth], counts[depth], done[depth] = low + half, size - half, 0
            depth += 1
        else:
            finished -= 1
            sums[finished - 1] = sums[finished - 1] + sums[finished]
            depth -= 1
    return sums[0]


@_jit
def _first_at_least(values, low, high, target):  # pragma: no cover - compiled
    """The first place in ``values[low:high]`` (sorted) whose value is ``target`` or more."""
    while low < high:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle + 1
        else:
            high = middle
    return low


_AHEAD_CURSORS = 16  # prefix entries ahead whose column cursor is fetched into the cache
_AHEAD_POSTINGS = 4  # prefix entries ahead whose next postings are fetched into the cache


@_jit
def search_rows(  # pragma: no cover - compiled
    start, stop, indptr, indices, data, in_prefix, t_indptr, t_indices, t_data,
    suffix_bound, level, min_similarity, accumulated, touched, columns, products, cursor,
    values, own,
):  # fmt: skip
    """Pairs ``(first, second, similarity)`` of rows ``start`` to ``stop`` (first < second).

    Work arrays, kept by the caller's thread from call to call (rows taken in increasing
    order): ``cursor`` (a copy of ``t_indptr[:-1]`` at first) holds, per column, where its
    postings of later rows began for the last row that searched it, so a row finds its
    later postings by stepping on from there instead of a binary search of the column;
    ``values`` (float32, one per column) holds the row's own values for the verification;
    ``own`` (as long as the longest row) its prefix entries, then a verified row's shared
    entries. The postings' and cursors' cache lines are fetched a few entries ahead: they lie
    far apart, and waiting for them was most of the search (the same pairs and bits either
    way).
    """
    first = np.empty(1024, dtype=np.int64)
    second = np.empty(1024, dtype=np.int64)
    similarity = np.empty(1024, dtype=np.float64)
    found = 0
    for row in range(start, stop):
        searched = 0
        for entry in range(indptr[row], indptr[row + 1]):
            if in_prefix[entry]:
                own[searched] = entry
                searched += 1
        for k in range(min(_AHEAD_CURSORS, searched)):
            prefetch(cursor, indices[own[k]])
        for k in range(min(_AHEAD_POSTINGS, searched)):
            at = cursor[indices[own[k]]]
            prefetch(t_indices, at)
            prefetch(t_data, at)
        count = 0
        for k in range(searched):
            if k + _AHEAD_CURSORS < searched:
                prefetch(cursor, indices[own[k + _AHEAD_CURSORS]])
            if k + _AHEAD_POSTINGS < searched:
                at = cursor[indices[own[k + _AHEAD_POSTINGS]]]
                prefetch(t_indices, at)
                prefetch(t_data, at)
            entry = own[k]
            weight = data[entry]
            column = indices[entry]
            low, end = t_indptr[column], t_indptr[column + 1]
            later = cursor[column]
            if later > low and t_indices[later - 1] > row:  # past this row: search anew
                later = _first_at_least(t_indices, low, end, row + 1)
            while later < end and t_indices[later] <= row:
                later += 1
            cursor[column] = later
            for posting in range(later, end):  # branch-free: a row is often met or not
                other = t_indices[posting]
                product = weight * t_data[posting]
                sum_before = accumulated[other]
                touched[count] = other  # kept when its sum turns from zero (once: products > 0)
                count += (sum_before == 0) & (product != 0)
                accumulated[other] = sum_before + product
        # The candidates: scipy's product keeps no zero sums; its bound is float64.
        candidates = 0
        for k in range(count):
            other = touched[k]
            product_sum = accumulated[other]
            accumulated[other] = 0.0
            if product_sum != 0 and suffix_bound[row] + np.float64(product_sum) >= level:
                touched[candidates] = other
                candidates += 1
        if candidates == 0:
            continue
        begin, end = indptr[row], indptr[row + 1]
        for entry in range(begin, end):  # the row's columns as bits (a few cache lines)
            column = indices[entry]
            columns[column >> 6] |= np.uint64(1) << np.uint64(column & 63)
            values[column] = data[entry]  # read only where a bit is set: never cleared
        for other in np.sort(touched[:candidates]):
            # The shared columns' products in column order: the other row's columns tested
            # against the bits without a branch (a third or so are shared: a branch there
            # is mispredicted often), then the row's own value of each shared one looked up.
            hits = 0
            for entry in range(indptr[other], indptr[other + 1]):
                column = indices[entry]
                own[hits] = entry  # the prefix entries' room, free once they are summed
                hits += (columns[column >> 6] >> np.uint64(column & 63)) & np.uint64(1)
            shared = 0
            for k in range(hits):
                entry = own[k]
                product = values[indices[entry]] * data[entry]
                if product != 0:  # scipy's element-wise product keeps no zeros
                    products[shared] = product
                    shared += 1
            # np.add.reduceat: the first value plus the pairwise sum of the rest.
            total = products[0] if shared else np.float32(0.0)
            if shared > 1:
                total += pairwise_sum(products, 1, shared - 1)
            if np.float64(total) < min_similarity:
                continue
            if found == len(first):  # full: twice the room
                first = np.concatenate((first, np.empty_like(first)))
                second = np.concatenate((second, np.empty_like(second)))
                similarity = np.concatenate((similarity, np.empty_like(similarity)))
            first[found], second[found], similarity[found] = row, other, total
            found += 1
        for entry in range(begin, end):
            columns[indices[entry] >> 6] = 0
    return first[:found], second[:found], similarity[:found]


@_jit
def shared_products(short_indices, short_values, long_indices, long_values):  # pragma: no cover
    """The products of the shared entries, in increasing index order."""
    products = np.empty(len(short_indices), dtype=np.float64)
    count, low, end = 0, 0, len(long_indices)
    for k in range(len(short_indices)):
        index = short_indices[k]
        # Galloping: steps of 1, 2, 4, ... past ``low``, then a binary search of the last
        # one (vectors of alike lengths: a step or two an index, not a search of the rest).
        probe, step = low, 1
        while probe < end and long_indices[probe] < index:
            low = probe + 1
            probe = low + step
            step *= 2
        low = _first_at_least(long_indices, low, min(probe, end), index)
        if low == end:
            break
        if long_indices[low] == index:
            products[count] = short_values[k] * long_values[low]
            count += 1
    return products, count


@_jit
def sparse_dot(a_indices, a_values, b_indices, b_values):  # pragma: no cover - compiled
    """:func:`dedup.sparse_vectors.dot` of ``(a_indices, a_values)`` and ``(b_indices, ...)``."""
    if len(a_indices) <= len(b_indices):
        products, count = shared_products(a_indices, a_values, b_indices, b_values)
    else:
        products, count = shared_products(b_indices, b_values, a_indices, a_values)
    return pairwise_sum(products, 0, count) if count else 0.0


@_jit
def sparse_add(a_indices, a_values, b_indices, b_values):  # pragma: no cover - compiled
    """:func:`dedup.sparse_vectors.add` of two vectors, by a merge of their indices."""
    total = len(a_indices) + len(b_indices)
    i = j = 0
    while i < len(a_indices) and j < len(b_indices):  # count the shared indices
        if a_indices[i] < b_indices[j]:
            i += 1
        elif b_indices[j] < a_indices[i]:
            j += 1
        else:
            total -= 1
            i += 1
            j += 1
    indices = np.empty(total, dtype=a_indices.dtype)
    values = np.empty(total, dtype=np.float64)
    i = j = 0
    for k in range(total):
        if j == len(b_indices) or (i < len(a_indices) and a_indices[i] < b_indices[j]):
            indices[k], values[k] = a_indices[i], a_values[i]
            i += 1
        elif i == len(a_indices) or b_indices[j] < a_indices[i]:
            indices[k], values[k] = b_indices[j], b_values[j]
            j += 1
        else:
            indices[k], values[k] = a_indices[i], a_values[i] + b_values[j]
            i += 1
            j += 1
    return indices, values


_AHEAD_PLACES = 8  # entries ahead whose postings' next places are fetched into the cache


@_jit
def fill_postings(
    indptr, indices, data, kept, low, high, filled, rows, values
):  # pragma: no cover - compiled
    """:func:`dedup.kept_entries.kept_transpose`'s postings of columns ``low`` to ``high``.

    Each kept entry of those columns, in row order, goes to its column's next place
    (``filled``, advanced): its row to ``rows``, its value to ``values``. Threads given
    apart column ranges write apart places.
    """
    end = len(indices)
    for row in range(len(indptr) - 1):
        for entry in range(indptr[row], indptr[row + 1]):
            # Fetched into the cache ahead: a later entry's column's next place, then the
            # place itself (each far from the last; columns of other threads left alone).
            if entry + 2 * _AHEAD_PLACES < end:
                later = indices[entry + 2 * _AHEAD_PLACES]
                if low <= later < high:
                    prefetch(filled, later)
            if entry + _AHEAD_PLACES < end:
                later = indices[entry + _AHEAD_PLACES]
                if low <= later < high:
                    prefetch(rows, filled[later])
                    prefetch(values, filled[later])
            column = indices[entry]
            if low <= column < high and kept[entry]:
                place = filled[column]
                rows[place] = row
                values[place] = data[entry]
                filled[column] = place + 1


@_jit
def searched_flags(indices, data, common, low, high, kept):  # pragma: no cover - compiled
    """Set ``kept`` of entries ``low`` to ``high``: False for a ``common`` column or a 0 value."""
    for entry in range(low, high):
        kept[entry] = not common[indices[entry]] and data[entry] != 0


@_jit
def count_kept(indptr, kept, low, high, counts):  # pragma: no cover - compiled
    """``counts[row + 1]``: the ``kept`` entries of each row ``low`` to ``high``."""
    for row in range(low, high):
        total = 0
        for entry in range(indptr[row], indptr[row + 1]):
            total += kept[entry]
        counts[row + 1] = total


@_jit
def copy_kept(
    indptr, indices, data, kept, low, high, starts, kept_indices, kept_data
):  # pragma: no cover - compiled
    """The ``kept`` entries of rows ``low`` to ``high``, in order, from each row's start."""
    for row in range(low, high):
        place = starts[row]
        for entry in range(indptr[row], indptr[row + 1]):
            if kept[entry]:
                kept_indices[place] = indices[entry]
                kept_data[place] = data[entry]
                place += 1


@_jit
def count_columns(indices, kept, low, high, counts):  # pragma: no cover - compiled
    """Add to ``counts`` the entries of each column ``low`` to ``high`` (``high`` excluded).

    Only the ``kept`` entries (a flag per entry) are counted; every entry when ``kept`` is
    empty. Threads given apart column ranges write apart counts.
    """
    every = len(kept) == 0
    for entry in range(len(indices)):
        column = indices[entry]
        if low <= column < high and (every or kept[entry]):
            counts[column] += 1


@_jit
def column_maxima(indices, data, low, high, maxima):  # pragma: no cover - compiled
    """Raise ``maxima`` (float64) to the largest entry of each column ``low`` to ``high``."""
    for entry in range(len(indices)):
        column = indices[entry]
        if low <= column < high:
            value = np.float64(data[entry])
            if value > maxima[column]:
                maxima[column] = value


@_jit
def mask_rows(
    indptr, indices, data, rank, column_max, level, in_prefix, suffix_bound
):  # pragma: no cover - compiled
    """:func:`dedup.pairs._mask_rows` of the rows of ``indptr`` (one block), the same bits.

    Per row, its entries by rank (most common column first); the float64 running sums of
    their squares and of their weights times their column's largest weight are the block's
    (one sum over all its rows, from 0.0) minus its value at the row's start, as the numpy
    code makes them. Entries whose bound (the smaller sum, square-rooted for the squares)
    stays under ``level`` are cleared from ``in_prefix`` (block positions); ``suffix_bound``
    gets each row's largest such bound (0.0 if none).
    """
    longest = 1
    for row in range(len(indptr) - 1):
        longest = max(longest, indptr[row + 1] - indptr[row])
    # A row's entries by rank: keys ``rank * length + place`` radix-sorted (the ranks of a row
    # are distinct), several times as fast as an argsort of a row of hundreds.
    keys = np.empty(longest, dtype=np.int64)
    spare = np.empty(longest, dtype=np.int64)
    order = np.empty(longest, dtype=np.int64)
    digits = 1  # bytes of the largest key
    while digits < 8 and (len(rank) * longest) >> (8 * digits):
        digits += 1
    squares = weights = 0.0
    for row in range(len(indptr) - 1):
        begin, end = indptr[row], indptr[row + 1]
        if begin == end:
            continue
        length = end - begin
        for k in range(length):
            keys[k] = np.int64(rank[indices[begin + k]]) * length + k
        ranked = _radix_sorted(keys, length, spare, digits)
        for k in range(length):
            order[k] = ranked[k] % length
        row_squares, row_weights = squares, weights  # the block's sums at the row's start
        largest = 0.0
        for k in range(length):
            entry = begin + order[k]
            value = np.float64(data[entry])
            squares += value * value
            weights += value * column_max[indices[entry]]
            bound = min(np.sqrt(squares - row_squares), weights - row_weights)
            if bound < level:
                in_prefix[entry] = False
                largest = max(largest, bound)
        suffix_bound[row] = largest


@_jit
def shared_sizes(values, starts, sizes, first, second, shared):  # pragma: no cover - compiled
    """``shared[p]``: the values sets ``first[p]`` and ``second[p]`` share (a merge of the two).

    Set ``s`` is ``values[starts[s]:starts[s] + sizes[s]]``, sorted and distinct.
    """
    for p in range(len(first)):
        a, b = first[p], second[p]
        i, i_end = starts[a], starts[a] + sizes[a]
        j, j_end = starts[b], starts[b] + sizes[b]
        count = 0
        while i < i_end and j < j_end:  # without branches: hashes in random order mispredict
            x, y = values[i], values[j]
            count += x == y
            i += x <= y
            j += y <= x
        shared[p] = count


@_jit
def centroid_top_columns(  # pragma: no cover - compiled
    indptr, indices, data, members, starts, count, best, total, seen, touched
):
    """``best[c]``: the ``count`` heaviest columns of the centroid of cluster ``c``'s rows.

    Cluster ``c``'s rows are ``members[starts[c]:starts[c + 1]]``; each column is summed
    in member order from 0 in the data's float type, then divided by the cluster's size
    in that type, as the product of a 0/1 indicator with the matrix and numpy's division
    make it (the same bits); zero sums are left out. Largest first, ties to the smaller
    column (``np.lexsort((columns, -weights))``); a row of fewer is filled up with -1.
    ``total``, ``seen`` (all False) and ``touched``: work arrays of the matrix's width.
    """
    values = np.empty(count, dtype=data.dtype)
    columns = np.empty(count, dtype=np.int64)
    for c in range(len(starts) - 1):
        met = 0
        for m in range(starts[c], starts[c + 1]):
            row = members[m]
            for e in range(indptr[row], indptr[row + 1]):
                column = indices[e]
                if not seen[column]:
                    seen[column] = True
                    total[column] = 0
                    touched[met] = column
                    met += 1
                total[column] += data[e]
        size = data.dtype.type(starts[c + 1] - starts[c])
        filled = 0
        for t in range(met):
            column = touched[t]
            seen[column] = False
            if total[column] == 0:
                continue
            value = total[column] / size
            if filled == count:  # full: the entry must rank above the last kept
                if value < values[count - 1] or (
                    value == values[count - 1] and column > columns[count - 1]
                ):
                    continue
                at = count - 1
            else:
                at = filled
                filled += 1
            while at > 0 and (
                value > values[at - 1] or (value == values[at - 1] and column < columns[at - 1])
            ):
                values[at], columns[at] = values[at - 1], columns[at - 1]
                at -= 1
            values[at], columns[at] = value, column
        best[c, :filled] = columns[:filled]
        best[c, filled:] = -1


@_jit
def merge_counts(a_keys, a_counts, b_keys, b_counts, keys, counts):  # pragma: no cover
    """Merge two runs of sorted distinct keys with counts: keys sorted, counts summed.

    Writes into ``keys`` and ``counts`` (room for both runs); returns how many it wrote.
    """
    i = j = n = 0
    while i < len(a_keys) and j < len(b_keys):
        x, y = a_keys[i], b_keys[j]
        if x <= y:
            keys[n], counts[n] = x, a_counts[i]
            if x == y:
                counts[n] += b_counts[j]
                j += 1
            i += 1
        else:
            keys[n], counts[n] = y, b_counts[j]
            j += 1
        n += 1
    for k in range(i, len(a_keys)):
        keys[n], counts[n] = a_keys[k], a_counts[k]
        n += 1
    for k in range(j, len(b_keys)):
        keys[n], counts[n] = b_keys[k], b_counts[k]
        n += 1
    return n


@_jit
def normalize_rows(indptr, data, low, high):  # pragma: no cover - compiled
    """Scale rows ``low`` to ``high`` of a CSR matrix to unit L2 norm, in place (zero rows stay).

    Each row's squares (in the data's float type) summed in float64 in order, each entry
    divided by the root in float64: scikit-learn's ``normalize`` bits.
    """
    for row in range(low, high):
        total = 0.0
        for j in range(indptr[row], indptr[row + 1]):
            total += data[j] * data[j]
        if total == 0.0:
            continue
        root = np.sqrt(total)
        for j in range(indptr[row], indptr[row + 1]):
            data[j] = data[j] / root


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing's multiplier (2**64 / golden ratio)


@_jit
def _slot(key, shift):  # pragma: no cover - compiled
    """A key's first slot in a table of ``2**(64 - shift)`` slots (Fibonacci hashing)."""
    return np.int64((np.uint64(key) * _GOLDEN) >> np.uint64(shift))


@_jit
def key_table(keys, shift, table):  # pragma: no cover - compiled
    """Fill ``table`` with the position of each of the distinct ``keys`` (linear probing).

    ``table``: -1 everywhere, ``2**(64 - shift)`` slots, at most half full. See :func:`find_key`.
    """
    mask = len(table) - 1
    for position in range(len(keys)):
        at = _slot(keys[position], shift)
        while table[at] != -1:
            at = (at + 1) & mask
        table[at] = position


@_jit
def find_key(key, keys, shift, table):  # pragma: no cover - compiled
    """The position of ``key`` in ``keys`` through their :func:`key_table`, or -1."""
    mask = len(table) - 1
    at = _slot(key, shift)
    while True:
        position = table[at]
        if position == -1 or keys[position] == key:
            return position
        at = (at + 1) & mask


_AHEAD_SLOTS = 12  # tokens ahead whose pair's table slot is fetched into the cache
_AHEAD_KEYS = 6  # tokens ahead whose pair key, pair column and count slot are fetched


@_jit
def _count_part(  # pragma: no cover - compiled
    ids, low, high, weight, with_pairs, width, word_column, pairs, shift, table, pair_column,
    counts, touched, filled,
):  # fmt: skip
    """Add one document's tokens ``ids[low:high]`` (and its adjacent pairs) to ``counts``.

    Each kept feature (column at least 0) adds ``weight``; a column first counted is appended
    to ``touched`` after its first ``filled`` entries (the twice-written step stays inline:
    as a compiled helper it made the rows a third slower). Returns the new ``filled``.
    """
    for i in range(low, high):
        # Fetched ahead: the table slots of later pairs, then what their slots point at.
        ahead = i + _AHEAD_SLOTS
        if with_pairs and ahead + 1 < high:
            key = width + np.int64(ids[ahead]) * width + np.int64(ids[ahead + 1])
            prefetch(table, _slot(key, shift))
        ahead = i + _AHEAD_KEYS
        if ahead < high:
            prefetch(counts, word_column[ids[ahead]])
            if with_pairs and ahead + 1 < high:
                key = width + np.int64(ids[ahead]) * width + np.int64(ids[ahead + 1])
                position = table[_slot(key, shift)]
                if position >= 0:
                    prefetch(pairs, position)
                    prefetch(pair_column, position)
        column = word_column[ids[i]]
        if column >= 0:
            if counts[column] == 0:
                touched[filled] = column
                filled += 1
            counts[column] += weight
        if with_pairs and i + 1 < high:
            key = width + np.int64(ids[i]) * width + np.int64(ids[i + 1])
            position = find_key(key, pairs, shift, table)
            if position >= 0:
                column = pair_column[position]
                if counts[column] == 0:
                    touched[filled] = column
                    filled += 1
                counts[column] += weight
    return filled


@_jit
def _radix_sorted(values, count, spare, digits):  # pragma: no cover - compiled
    """``values[:count]`` (non-negative, below ``256**digits``) sorted, by bytes (LSD radix).

    The sort moves the values between ``values`` and ``spare``; returns the array that holds
    them sorted. About 5 times as fast as numba's quicksort on a row of 700 columns.
    """
    buckets = np.zeros(256, dtype=np.int64)
    source, target = values, spare
    for digit in range(digits):
        shift = 8 * digit
        buckets[:] = 0
        for k in range(count):
            buckets[(source[k] >> shift) & 255] += 1
        total = 0
        for b in range(256):
            total, buckets[b] = total + buckets[b], total
        for k in range(count):
            b = (source[k] >> shift) & 255
            target[buckets[b]] = source[k]
            buckets[b] += 1
        source, target = target, source
    return source


@_jit
def count_rows(  # pragma: no cover - compiled
    body, body_starts, title, title_starts, title_weight, names, name_starts, name_weight,
    width, word_column, pairs, shift, table, pair_column, counts, touched, spare, digits, sizes,
    columns, values,
):  # fmt: skip
    """The count matrix's rows of some documents, each in column order: ``tfidf.count_matrix``.

    Document ``d``'s tokens are ``body[body_starts[d]:body_starts[d + 1]]`` (with its
    adjacent pairs), its title's likewise (tokens and pairs counted ``title_weight`` times),
    its names' (no pairs, ``name_weight`` times; a weight of 0 leaves a part out). A token's
    column is ``word_column[id]`` and a pair's (key ``width + first * width + second``) is
    ``pair_column[position in pairs]``, found through ``table`` (:func:`key_table`); -1 is a
    feature left out. ``counts`` (zeros, a slot per column) and ``touched`` (room for a
    document's distinct features) are scratch, left as found, and so is ``spare`` (as long as
    ``touched``); ``digits``: bytes of the largest column. Writes each row's size into
    ``sizes`` and its columns and counts into ``columns`` and ``values`` (room for every
    feature occurrence); returns the entries written.
    """
    written = 0
    for d in range(len(sizes)):
        filled = _count_part(
            body, body_starts[d], body_starts[d + 1], 1, True,
            width, word_column, pairs, shift, table, pair_column, counts, touched, 0,
        )  # fmt: skip
        if title_weight:
            filled = _count_part(
                title, title_starts[d], title_starts[d + 1], title_weight, True,
                width, word_column, pairs, shift, table, pair_column, counts, touched, filled,
            )  # fmt: skip
        if name_weight:
            filled = _count_part(
                names, name_starts[d], name_starts[d + 1], name_weight, False,
                width, word_column, pairs, shift, table, pair_column, counts, touched, filled,
            )  # fmt: skip
        row = _radix_sorted(touched, filled, spare, digits)
        for k in range(filled):
            column = row[k]
            columns[written + k] = column
            values[written + k] = counts[column]
            counts[column] = 0
        sizes[d] = filled
        written += filled
    return written


@_jit
def dense_products(indptr, indices, data, rows, local, out):  # pragma: no cover - compiled
    """``matrix[rows] @ matrix[rows].T`` of a CSR matrix (sorted indices) into ``out``.

    ``out``: zeros (float, square, a row and column per row of ``rows``). The bits of scipy's
    sparse product: entry ``(i, j)`` sums row ``i``'s products in its column order (the
    shared columns', in the same order from row ``j``, so the matrix is filled from its
    upper half). ``local``: -1 for each column of the matrix, left so; it numbers the
    columns the rows use (read once per entry: it spans the corpus' columns).
    """
    n = len(rows)
    size = 0
    for i in range(n):
        size += indptr[rows[i] + 1] - indptr[rows[i]]
    used_columns = np.empty(size, dtype=np.int64)
    number = np.empty(size, dtype=np.int64)  # each entry's column, numbered, row by row
    used = at = 0
    for i in range(n):
        for entry in range(indptr[rows[i]], indptr[rows[i] + 1]):
            column = indices[entry]
            if local[column] == -1:
                local[column] = used
                used_columns[used] = column
                used += 1
            number[at] = local[column]
            at += 1
    for k in range(used):
        local[used_columns[k]] = -1
    # The rows by column (each column's rows ascending), and a cursor per column: when row
    # i is reached, every earlier row is past, so the cursor is at row i's own entry.
    starts = np.zeros(used + 1, dtype=np.int64)
    for at in range(size):
        starts[number[at] + 1] += 1
    for k in range(used):
        starts[k + 1] += starts[k]
    cursor = starts[:used].copy()
    posting_rows = np.empty(size, dtype=np.int64)
    posting_values = np.empty(size, dtype=data.dtype)
    at = 0
    for i in range(n):
        for entry in range(indptr[rows[i]], indptr[rows[i] + 1]):
            k = number[at]
            posting_rows[cursor[k]] = i
            posting_values[cursor[k]] = data[entry]
            cursor[k] += 1
            at += 1
    cursor[:] = starts[:used]
    at = 0
    for i in range(n):
        for entry in range(indptr[rows[i]], indptr[rows[i] + 1]):
            k = number[at]
            value = data[entry]
            for posting in range(cursor[k], starts[k + 1]):
                out[i, posting_rows[posting]] += value * posting_values[posting]
            cursor[k] += 1
            at += 1
    for i in range(n):
        for j in range(i + 1, n):
            out[j, i] = out[i, j]


@_jit
def _count_words(ids, low, high, stamp, doc, frequencies):  # pragma: no cover - compiled
    """Count each distinct token of ``ids[low:high]`` once for document ``doc``."""
    for i in range(low, high):
        token = ids[i]
        if stamp[token] != doc:
            stamp[token] = doc
            frequencies[token] += 1


@_jit
def _pair_keys(ids, low, high, width, keys, filled):  # pragma: no cover - compiled
    """Append the keys of the adjacent pairs of ``ids[low:high]`` to ``keys`` after ``filled``."""
    for i in range(low, high - 1):
        keys[filled] = width + np.int64(ids[i]) * width + np.int64(ids[i + 1])
        filled += 1
    return filled


@_jit
def document_keys(  # pragma: no cover - compiled
    body, body_starts, title, title_starts, with_title, names, name_starts, with_names, width,
    first_doc, stamp, frequencies, buffer, spare, digits, pair_keys,
):  # fmt: skip
    """The document frequencies' raw material of some documents: ``tfidf.count_matrix``.

    Each distinct token of a document (its body's, its title's when ``with_title``, its
    names' when ``with_names``; parts laid out as in :func:`count_rows`) adds 1 to
    ``frequencies`` (a slot per token id; ``stamp``, a slot per token id, marks the last
    document, numbered from ``first_doc``, that counted it). Each distinct pair key of a
    document (body's and title's adjacent pairs) is appended to ``pair_keys``; ``buffer``
    and ``spare`` hold one document's pairs while they are sorted (``digits``: bytes of the
    largest key). Returns the pair keys written.
    """
    written = 0
    for d in range(len(body_starts) - 1):
        doc = first_doc + d
        _count_words(body, body_starts[d], body_starts[d + 1], stamp, doc, frequencies)
        filled = _pair_keys(body, body_starts[d], body_starts[d + 1], width, buffer, 0)
        if with_title:
            _count_words(title, title_starts[d], title_starts[d + 1], stamp, doc, frequencies)
            filled = _pair_keys(title, title_starts[d], title_starts[d + 1], width, buffer, filled)
        if with_names:
            _count_words(names, name_starts[d], name_starts[d + 1], stamp, doc, frequencies)
        keys = _radix_sorted(buffer, filled, spare, digits)
        for k in range(filled):
            if k == 0 or keys[k] != keys[k - 1]:
                pair_keys[written] = keys[k]
                written += 1
    return written


@_jit
def _class_at(codes, classes, i):  # pragma: no cover - compiled
    """The class of ``codes[i]``: 0 (a gap) past the BMP and past the end."""
    return classes[codes[i]] if i < len(codes) and codes[i] < 0x10000 else 0


@_jit
def _word_end(codes, classes, start):  # pragma: no cover - compiled
    """The end of the word characters (classes 1 and 2) of ``codes`` from ``start``."""
    end = start
    while 1 <= _class_at(codes, classes, end) <= 2:
        end += 1
    return end


@_jit
def capitalised_runs(codes, classes):  # pragma: no cover - compiled
    """The runs of capitalised words of a text: ``features._capitalised_runs``, by code point.

    ``codes`` are the text's code points; ``classes`` the class of each of the BMP's: 0 a gap
    between words, 1 another word character, 2 an upper-case letter, 3 a stop or line break
    (a code point past the BMP counts as a gap: the caller redoes such text). A run starts
    at an upper-case letter that follows no word character, takes the rest of its word, then
    each further word that starts with an upper-case letter after gaps only. A run of one word
    is kept unless the last word character, stop or line break before it is a stop or line
    break, or there is none.

    Returns:
        ``(starts, ends, plain, first_words, word_starts, word_ends)``: per kept run, its span,
        whether its words are separated by single spaces (``codes[start:end]`` is then the
        run as it is shown), and its first word (an index into the word spans; a run's words
        run up to the next run's first).
    """
    n = len(codes)
    starts = np.empty(n // 2 + 1, np.int64)
    ends = np.empty(n // 2 + 1, np.int64)
    plain = np.empty(n // 2 + 1, np.bool_)
    first_words = np.empty(n // 2 + 1, np.int64)
    word_starts = np.empty(n // 2 + 1, np.int64)
    word_ends = np.empty(n // 2 + 1, np.int64)
    runs = words = 0
    last = 3  # the class of the last word character, stop or line break (the start: a break)
    i = 0
    while i < n:
        kind = _class_at(codes, classes, i)
        if kind != 2 or (i > 0 and 1 <= _class_at(codes, classes, i - 1) <= 2):  # in a word
            if kind != 0:
                last = kind
            i += 1
            continue
        first = words
        end = _word_end(codes, classes, i + 1)
        word_starts[words], word_ends[words] = i, end
        words += 1
        single_spaces = True
        while True:  # the next word, when only gaps stand before it and it is capitalised
            gap = end
            while gap < n and _class_at(codes, classes, gap) == 0:
                gap += 1
            if gap == end or _class_at(codes, classes, gap) != 2:
                break
            single_spaces = single_spaces and gap == end + 1 and codes[end] == 32
            word_starts[words], end = gap, _word_end(codes, classes, gap + 1)
            word_ends[words] = end
            words += 1
        if words - first > 1 or last != 3:
            starts[runs], ends[runs], plain[runs], first_words[runs] = i, end, single_spaces, first
            runs += 1
        else:
            words = first  # a sentence's first word alone
        last = 1
        i = end
    return (
        starts[:runs], ends[:runs], plain[:runs], first_words[:runs],
        word_starts[:words], word_ends[:words],
    )  # fmt: skip


@_jit
def _token_hash(codes, start, end):  # pragma: no cover - compiled
    """FNV-1a of ``codes[start:end]`` (64-bit), its high bits folded down for table slots."""
    h = np.uint64(0xCBF29CE484222325)
    for i in range(start, end):
        h = (h ^ np.uint64(codes[i])) * np.uint64(0x100000001B3)
    return h ^ (h >> np.uint64(32))


@_jit
def _token_slot(
    codes, start, end, h, slots, slot_hashes, known, known_start, known_length
):  # pragma: no cover
    """The slot of the token ``codes[start:end]`` (hash ``h``): its own, or the empty one."""
    mask = len(slots) - 1
    s = np.int64(h & np.uint64(mask))
    while slots[s] >= 0:
        row = slots[s]
        if slot_hashes[s] == h and known_length[row] == end - start:
            a = known_start[row]
            k = 0
            while k < end - start and known[a + k] == codes[start + k]:
                k += 1
            if k == end - start:
                return s
        s = (s + 1) & mask
    return s


@_jit
def _insert_token(  # pragma: no cover - compiled
    known, start, end, row, slots, slot_hashes, known_start, known_length
):  # fmt: skip
    """Put ``row``, whose code points are ``known[start:end]``, in the table's empty slot."""
    h = _token_hash(known, start, end)
    s = _token_slot(known, start, end, h, slots, slot_hashes, known, known_start, known_length)
    slots[s], slot_hashes[s] = row, h


@_jit
def minhash_rows(values, offsets, a, b, out):  # pragma: no cover - compiled
    """``Permutations.signatures``: row ``d`` of ``out`` from ``values[offsets[d]:offsets[d+1]]``.

    Each value ``v`` (the upper 32 bits of a shingle hash) gives ``a[p] * v + b[p]`` modulo
    2**32 for each permutation ``p``, and the row keeps the smallest of each; a row with no
    values is left as it is. The permutations are the inner loop: one row stays in registers
    while the values stream past (a few times faster than numpy's passes over a block).
    """
    row = np.empty(len(a), dtype=np.uint32)
    for d in range(len(offsets) - 1):
        if offsets[d] == offsets[d + 1]:
            continue
        row[:] = np.uint32(0xFFFFFFFF)
        for i in range(offsets[d], offsets[d + 1]):
            value = values[i]
            for p in range(len(a)):
                row[p] = min(row[p], np.uint32(a[p] * value + b[p]))
        out[d, :] = row


@_jit
def _two_equal_halves(letters, count):  # pragma: no cover - compiled
    """Whether ``letters[:count]`` is a text followed by itself (so is the empty text)."""
    half = count // 2
    same = count % 2 == 0
    k = 0
    while same and k < half:
        same = letters[k] == letters[k + half]
        k += 1
    return same


@_jit
def line_token_rows(  # pragma: no cover - compiled
    codes, is_word, slots, slot_hashes, known, known_start, known_length,
    rows, token_starts, token_ends, counts, halves, letters,
):  # fmt: skip
    r"""Cut lines of text into tokens and find each token's row; ``dedup.token_table``.

    ``codes``: the code points of the lines, each ended by a line feed (10). A token is a run
    of code points with ``is_word`` (the regex ``\w``). Each token's row is looked up in an
    open-addressing table (``slots``: a row or -1, ``slot_hashes``) of the tokens seen, whose
    code points are ``known[known_start[row]:][:known_length[row]]``; -1 when it is not there.
    Per line: its tokens (``counts``), and whether its word characters, read in order, are two
    equal halves (``halves``; ``letters`` is scratch for them). Returns the tokens written.
    """
    n = len(codes)
    tokens = line = line_tokens = written = 0
    i = 0
    while i < n:
        code = codes[i]
        if code == 10:  # the line ends
            counts[line], halves[line] = line_tokens, _two_equal_halves(letters, written)
            line += 1
            line_tokens = written = 0
            i += 1
        elif is_word[code]:
            start = i
            while i < n and is_word[codes[i]]:
                letters[written] = codes[i]
                written += 1
                i += 1
            h = _token_hash(codes, start, i)
            s = _token_slot(
                codes, start, i, h, slots, slot_hashes, known, known_start, known_length
            )
            rows[tokens], token_starts[tokens], token_ends[tokens] = slots[s], start, i
            tokens += 1
            line_tokens += 1
        else:
            i += 1
    return tokens


@_jit
def line_halves(rows, counts, letter_start, letter_count, letters, halves):  # pragma: no cover
    """Per line, whether the letters of its tokens, read in order, are two equal halves.

    Line ``l`` has the next ``counts[l]`` token rows of ``rows``; row ``r``'s letters are
    ``letters[letter_start[r]:][:letter_count[r]]`` (at least one). The halves are read
    side by side, from the line's first letter and from its middle one, until they differ
    (most lines: at once).
    """
    token = 0
    for line in range(len(counts)):
        first, last = token, token + counts[line]
        token = last
        total = 0
        for t in range(first, last):
            total += letter_count[rows[t]]
        if total % 2:
            halves[line] = False
            continue
        half = total // 2
        b, before = first, 0  # the token holding the middle letter, and the letters before it
        while b < last and before + letter_count[rows[b]] <= half:
            before += letter_count[rows[b]]
            b += 1
        a, a_at, b_at = first, 0, half - before
        same = True
        for _ in range(half):
            if a_at == letter_count[rows[a]]:
                a, a_at = a + 1, 0
            if b_at == letter_count[rows[b]]:
                b, b_at = b + 1, 0
            if letters[letter_start[rows[a]] + a_at] != letters[letter_start[rows[b]] + b_at]:
                same = False
                break
            a_at += 1
            b_at += 1
        halves[line] = same


@_jit
def add_tokens(  # pragma: no cover - compiled
    codes, starts, ends, new_rows, slots, slot_hashes, known, known_start, known_length, used
):  # fmt: skip
    """Put the tokens ``codes[starts[t]:ends[t]]`` (rows ``new_rows``, not in the table) in it.

    Their code points are appended to ``known`` after ``used``; returns the new ``used``.
    """
    for t in range(len(starts)):
        start, end, row = starts[t], ends[t], new_rows[t]
        known_start[row], known_length[row] = used, end - start
        for k in range(start, end):
            known[used] = codes[k]
            used += 1
        _insert_token(
            known, known_start[row], used, row, slots, slot_hashes, known_start, known_length
        )  # fmt: skip
    return used


@_jit
def rehash_tokens(known, known_start, known_length, slots, slot_hashes):  # pragma: no cover
    """Put every row with code points in ``known`` (``known_length`` 0 or more) in new slots."""
    for row in range(len(known_start)):
        if known_length[row] >= 0:
            start = known_start[row]
            _insert_token(
                known, start, start + known_length[row], row, slots, slot_hashes, known_start,
                known_length,
            )  # fmt: skip


@_jit
def _splitmix(value):  # pragma: no cover - compiled
    """The splitmix64 finalizer of ``shingle._mix`` (uint64 in, uint64 out)."""
    value = value ^ (value >> np.uint64(30))
    value = value * np.uint64(0xBF58476D1CE4E5B9)
    value = value ^ (value >> np.uint64(27))
    value = value * np.uint64(0x94D049BB133111EB)
    return value ^ (value >> np.uint64(31))


_RADIX_RUN = 64  # longer runs of hashes are radix-sorted (shorter: numba's sort is faster)


@_jit
def run_shingles(flat, lengths, k, multiplier, out, counts, spare):  # pragma: no cover - compiled
    """``shingle.shingles_of_runs``: each run's sorted distinct ``k``-shingle hashes, packed.

    Run ``r`` is the next ``lengths[r]`` token hashes of ``flat``; its shingles (a run shorter
    than ``k`` tokens: one of all of them) go to ``out`` after the runs before it, sorted and
    distinct, and their number to ``counts[r]``. ``out`` has room for ``len(flat) +
    len(lengths)``; ``spare`` (int64) for the longest run. Returns the hashes written.
    """
    written = start = 0
    for r in range(len(lengths)):
        n = lengths[r]
        begin = written
        width = min(k, n)
        for i in range(start, start + n - width + 1 if n else start):
            value = flat[i]
            for offset in range(1, width):
                value = value * multiplier + flat[i + offset]
            out[written] = _splitmix(value)
            written += 1
        if written - begin > _RADIX_RUN:  # by all 8 bytes (as int64: the same bytes): in place
            _radix_sorted(out[begin:written].view(np.int64), written - begin, spare, 8)
        else:
            out[begin:written].sort()
        kept = begin
        for j in range(begin, written):
            if j == begin or out[j] != out[kept - 1]:
                out[kept] = out[j]
                kept += 1
        counts[r] = kept - begin
        written = kept
        start += n
    return written


@_jit
def _cluster_vector(
    c, indptr, indices, data, summed, vector_indices, vector_values
):  # pragma: no cover - compiled
    """A merged cluster's row sum (kept), or a single row's (a view of the matrix)."""
    if summed[c]:
        return vector_indices[c], vector_values[c]
    return indices[indptr[c] : indptr[c + 1]], data[indptr[c] : indptr[c + 1]]


@_jit
def average_link(
    indptr,
    indices,
    data,
    pairs_first,
    pairs_second,
    pairs_similarity,
    distance,
    first,
    second,
    limit,
):  # pragma: no cover - compiled
    """:func:`dedup.linkage.average_link_labels` without dates, compiled: the same merges.

    The same steps and float operations as the Python loop, with a dense n x n table of the
    pair sums (NaN where the graph holds none) in place of the neighbour dicts, so the rows
    (of the CSR ``indptr``, ``indices``, float64 ``data``) must be few: a block of the story
    graph. ``pairs_*``: the graph's pairs; ``distance``, ``first`` and ``second``: those
    closer than the cut, sorted as the Python loop pops them.

    Returns:
        The parent of each row (a row merged into another: that row; a root: itself).
    """
    n = len(indptr) - 1
    link = np.full((n, n), np.nan)
    degree = np.zeros(n, dtype=np.int64)
    for k in range(len(pairs_first)):
        a, b = pairs_first[k], pairs_second[k]
        link[a, b] = link[b, a] = pairs_similarity[k]
    for a in range(n):
        for b in range(n):
            degree[a] += not np.isnan(link[a, b])
    size = np.ones(n, dtype=np.int64)
    version = np.zeros(n, dtype=np.int64)
    parent = np.arange(n)
    summed = np.zeros(n, dtype=np.bool_)
    vector_indices = [indices[:0] for _ in range(n)]
    vector_values = [data[:0] for _ in range(n)]
    heap = [(0.0, 0, 0, 0, 0)]
    heap.pop()
    queued = 0
    while heap or queued < len(first):
        if queued < len(first):
            item = (distance[queued], first[queued], second[queued], 0, 0)
            if heap and heap[0] < item:
                item = heapq.heappop(heap)
            else:
                queued += 1
        else:
            item = heapq.heappop(heap)
        _, a, b, version_a, version_b = item
        if version[a] != version_a or version[b] != version_b:
            continue  # stale: one side merged since
        keep, gone = (a, b) if degree[a] >= degree[b] else (b, a)
        merged = size[keep] + size[gone]
        link[keep, gone] = link[gone, keep] = np.nan
        degree[keep] -= 1
        degree[gone] -= 1
        keep_indices, keep_values = _cluster_vector(
            keep, indptr, indices, data, summed, vector_indices, vector_values
        )
        gone_indices, gone_values = _cluster_vector(
            gone, indptr, indices, data, summed, vector_indices, vector_values
        )
        for other in range(n):
            with_keep, with_gone = link[keep, other], link[gone, other]
            if np.isnan(with_keep) and np.isnan(with_gone):
                continue
            other_indices, other_values = _cluster_vector(
                other, indptr, indices, data, summed, vector_indices, vector_values
            )
            if np.isnan(with_keep):
                with_keep = sparse_dot(keep_indices, keep_values, other_indices, other_values)
                degree[keep] += 1
                degree[other] += 1
            if np.isnan(with_gone):
                with_gone = sparse_dot(gone_indices, gone_values, other_indices, other_values)
            else:
                link[gone, other] = link[other, gone] = np.nan
                degree[gone] -= 1
                degree[other] -= 1
            total = with_keep + with_gone
            link[keep, other] = link[other, keep] = total
            distance_now = 1.0 - total / (merged * size[other])
            if distance_now <= limit:
                low, high = min(keep, other), max(keep, other)
                heapq.heappush(
                    heap,
                    (
                        distance_now,
                        low,
                        high,
                        version[low] + (low == keep),
                        version[high] + (high == keep),
                    ),
                )
        # A cluster left with no neighbour never merges, nor is summed with, again.
        if degree[keep]:
            vector_indices[keep], vector_values[keep] = sparse_add(
                keep_indices, keep_values, gone_indices, gone_values
            )
            summed[keep] = True
        else:
            summed[keep] = False
            vector_indices[keep], vector_values[keep] = indices[:0], data[:0]
        summed[gone] = False
        vector_indices[gone], vector_values[gone] = indices[:0], data[:0]
        size[keep] = merged
        version[keep] += 1
        version[gone] = -1
        parent[gone] = keep
    return parent
