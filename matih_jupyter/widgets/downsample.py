"""Fewer points for a view, keeping its shape: the first, last, lowest and highest point of
each pixel column survive, so spikes and the envelope of a noisy curve look the same as
with every point drawn."""

from __future__ import annotations

import numpy as np


def minmax_indices(x: np.ndarray, y: np.ndarray, buckets: int) -> np.ndarray:
    """Indices (sorted) of at most ``4 * buckets`` points of the curve (x ascending) that
    draw like all of them at ``buckets`` pixel columns."""
    n = len(x)
    if n <= 4 * buckets or buckets < 1:
        return np.arange(n)
    lo, hi = float(x[0]), float(x[-1])
    span = hi - lo or 1.0
    column = np.minimum(((x - lo) / span * buckets).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
    ends = np.r_[starts[1:], n] - 1
    finite = np.where(np.isfinite(y), y, np.nan)
    keep = [starts, ends]
    if np.isfinite(finite).any():
        # Per column, the position of its minimum and maximum (NaN-safe).
        low = np.where(np.isnan(finite), np.inf, finite)
        high = np.where(np.isnan(finite), -np.inf, finite)
        keep.append(starts + _argreduce(low, starts, np.minimum))
        keep.append(starts + _argreduce(high, starts, np.maximum))
    return np.unique(np.concatenate(keep))


def _argreduce(values: np.ndarray, starts: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """Offset, within each segment beginning at ``starts``, of its reduced value."""
    reduced = ufunc.reduceat(values, starts)
    segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
    hit = values == reduced[segment]
    first = np.full(len(starts), -1, dtype=np.int64)
    positions = np.flatnonzero(hit)
    owners = segment[positions]
    # The first hit of each segment (positions ascend, so keep the earliest per owner).
    order = np.unique(owners, return_index=True)[1]
    first[owners[order]] = positions[order]
    return np.where(first < 0, 0, first - starts)
