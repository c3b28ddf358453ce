"""Operand pairs for digit-by-digit addition in any base: random sums, long carry chains and stress families.

Operands are LSB-first digit arrays of shape `(n, L)`. A *carry run* is a stretch of consecutive positions that
all carry out; a pair of digits *generates* a carry (a + b >= base), *propagates* one (a + b == base - 1) or
*kills* it (a + b <= base - 2). A carry chain of length k is a generating pair followed by k - 1 propagating
pairs the carry runs through; injected chains have killing pairs on both sides, so they are exactly k long. In
uniformly random digits a chain of k appears with probability about 10^-(k-1) per position in base 10.
"""
import numpy as np

CHAIN_LENGTHS = (10, 100)  # injected chain families; the full-length chain (L - 1) is always added


def random_operands(rng, n, length, base):
    """Two operands of uniformly random digits."""
    return (rng.integers(0, base, (n, length), dtype=np.int32),
            rng.integers(0, base, (n, length), dtype=np.int32))


def carry_outs(a, b, base):
    """(n, L) booleans: does position i carry into position i + 1."""
    carries = np.zeros(a.shape, dtype=bool)
    carry = np.zeros(a.shape[0], dtype=np.int32)
    for i in range(a.shape[1]):
        carry = (a[:, i] + b[:, i] + carry) // base
        carries[:, i] = carry == 1
    return carries


def longest_carry_chain(a, b, base):
    """(n,) each sum's longest carry chain: a generating pair and the propagating pairs its carry runs through."""
    carries = carry_outs(a, b, base)
    propagates = a + b == base - 1
    best = np.zeros(len(a), dtype=np.int64)
    run = np.zeros(len(a), dtype=np.int64)
    for i in range(carries.shape[1]):
        run = np.where(carries[:, i], np.where(propagates[:, i], run + 1, 1), 0)
        best = np.maximum(best, run)
    return best


def _pairs(rng, shape, base, kind):
    """Random digit pairs (a, b) that generate, propagate or kill a carry."""
    if kind == "generate":  # a in 1..base-1, b in base-a..base-1
        a = rng.integers(1, base, shape)
        return a, base - a + rng.integers(0, a)
    if kind == "propagate":
        a = rng.integers(0, base, shape)
        return a, base - 1 - a
    a = rng.integers(0, base - 1, shape)  # kill: a + b <= base - 2
    return a, (rng.integers(0, base - 1 - a) if base > 2 else np.zeros(shape, dtype=np.int64))


def inject_chains(rng, a, b, base, lengths, carry=None, constant=None):
    """Overwrite each row of `a`, `b` (in place) with one chain of `lengths[i]` positions at a random place.

    A chain starts with a generating pair (a carry run of exactly that length) where `carry[i]` (default: all),
    else with a killing pair (a run of propagating pairs that carries nothing). Its propagating pairs are
    random, or one pair repeated where `constant[i]` (e.g. 9+0 9+0 9+0 ...).
    """
    n, width = a.shape
    lengths = np.minimum(np.asarray(lengths), width)
    carry = np.ones(n, dtype=bool) if carry is None else carry
    constant = np.zeros(n, dtype=bool) if constant is None else constant
    starts = (rng.random(n) * (width - lengths + 1)).astype(np.int64)
    position = np.arange(width)[None, :]
    start, end = starts[:, None], (starts + lengths)[:, None]
    first = position == start
    pa, pb = _pairs(rng, (n, width), base, "propagate")
    repeat = rng.integers(0, base, (n, 1))
    pa = np.where(constant[:, None], repeat, pa)
    pb = base - 1 - pa
    for where, (xa, xb) in (((position == start - 1) | (position == end) | (first & ~carry[:, None]),
                             _pairs(rng, (n, width), base, "kill")),
                            (first & carry[:, None], _pairs(rng, (n, width), base, "generate")),
                            ((position > start) & (position < end), (pa, pb))):
        a[where], b[where] = xa[where], xb[where]
    return a, b


def chain_operands(rng, n, length, base, chain):
    """Random operands with one injected carry chain of `chain` positions."""
    a, b = random_operands(rng, n, length, base)
    return inject_chains(rng, a, b, base, np.full(n, chain))


def enriched_operands(rng, n, length, base, fraction):
    """Random operands; a `fraction` of the rows get one chain of a uniformly drawn length 1..L.

    Half of those chains carry and half do not, and half repeat one propagating pair, so a model meets long
    runs of 9+0 (or 4+5, ...) both with and without a carry coming in.
    """
    a, b = random_operands(rng, n, length, base)
    rows = rng.random(n) < fraction
    count = int(rows.sum())
    if count and length > 1:
        chains = rng.integers(1, length + 1, count)
        a[rows], b[rows] = inject_chains(rng, a[rows], b[rows], base, chains, carry=rng.random(count) < 0.5,
                                         constant=rng.random(count) < 0.5)
    return a, b


def stress_operands(rng, n, length, base):
    """{family: (a, b)}: the hard cases of addition at `length` digits, `n` each (one where the case is unique)."""
    top = base - 1
    full = np.full((1, length), top, dtype=np.int32)
    one = np.zeros((1, length), dtype=np.int32)
    one[0, 0] = 1
    families = {"max_plus_one": (full, one), "one_plus_max": (one, full.copy())}
    if length > 1:  # a + (base^L - a) for random a not divisible by the base: every position carries
        a = rng.integers(0, base, (n, length), dtype=np.int32)
        a[:, 0] = rng.integers(1, base, n)
        b = (top - a).astype(np.int32)  # base^L - a, digit by digit: (base - 1 - a_i), plus one at the bottom
        b[:, 0] += 1
        families["complement"] = (a, b)
    for chain in sorted({c for c in CHAIN_LENGTHS if c < length - 1} | {max(1, length - 1)}):
        label = "chain_full" if chain == length - 1 else f"chain_{chain}"
        families[label] = chain_operands(rng, n, length, base, chain)
    for label, make in (("pairs_max_0", lambda: np.full((n, length), top)),
                        ("pairs_0_max", lambda: np.zeros((n, length))),
                        ("pairs_random", lambda: rng.integers(0, base, (n, length)))):
        a = make().astype(np.int32)
        b = (top - a).astype(np.int32)
        a[:, 0], b[:, 0] = rng.integers(0, base, n), rng.integers(0, base, n)  # carries all the way, or not
        families[label] = (a, b)
    digit = rng.integers(0, base, (n, 1))
    families["equal_digits"] = (np.repeat(digit, length, 1).astype(np.int32),
                                np.repeat(digit, length, 1).astype(np.int32))
    a, b = random_operands(rng, n, length, base)
    zero_a = rng.random(n) < 0.5
    a[zero_a], b[~zero_a] = 0, 0
    families["zero_operand"] = (a, b)
    families["max_operands"] = (full.copy(), full.copy())
    return families
