"""The embedded Reber grammar generator (Exp 1) against PAPER.md §3.1, on thousands of strings.

The grammar is checked with two recognisers written here from the edge list of §3.1, independently of
lstm97.tasks.reber: a state machine (which also gives the legal next symbols of every prefix) and a regular
expression.
"""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.batches import assert_chunk_invariant

from lstm97.checks import check_task
from lstm97.errors import UserError
from lstm97.models.lstm import LSTM
from lstm97.tasks.base import SequenceBatch
from lstm97.tasks.criteria import EvalRule
from lstm97.tasks.reber import Reber, decode

ALPHABET = "BTPSXVE"
# PAPER.md §3.1, "node: symbol -> node"
EDGE_LIST = "0T1 0P5 1S1 1X2 2S3 2X5 5T5 5V4 4V3 4P2"
TRANS = {(int(e[0]), e[1]): int(e[2]) for e in EDGE_LIST.split()}

# the same language as a regular expression: R2 = paths from node 2 to node 3
_R2 = "(?:XT*VP)*(?:S|XT*VV)"
_INNER = f"B(?:TS*X{_R2}|PT*V(?:V|P{_R2}))E"
REBER_RE = re.compile(_INNER)
EMBEDDED_RE = re.compile(f"B(?:T{_INNER}T|P{_INNER}P)E")


def _step(state, c):
    """The embedded-Reber recogniser: next state, or None when ``c`` cannot follow."""
    kind = state[0]
    if kind == "start":
        return ("outer",) if c == "B" else None
    if kind == "outer":
        return ("inner-B", c) if c in "TP" else None
    if kind == "inner-B":
        return ("node", state[1], 0) if c == "B" else None
    if kind == "node":
        outer, node = state[1], state[2]
        if node == 3:
            return ("back", outer) if c == "E" else None
        nxt = TRANS.get((node, c))
        return None if nxt is None else ("node", outer, nxt)
    if kind == "back":
        return ("last",) if c == state[1] else None
    if kind == "last":
        return ("done",) if c == "E" else None
    return None


def _run(s):
    state = ("start",)
    for c in s:
        state = _step(state, c)
        if state is None:
            return None
    return state


def accepts(s):
    return _run(s) == ("done",)


def reber_accepts(s):
    """A plain (not embedded) Reber string."""
    state = ("node", "T", 0)
    if not s.startswith("B"):
        return False
    for c in s[1:]:
        state = _step(state, c)
        if state is None:
            return False
    return state == ("back", "T")


@pytest.fixture(scope="module")
def batch():
    return Reber().sample(np.random.default_rng(0), 4000)


@pytest.mark.parametrize("s", ["BTSSXXTVVE", "BPVVE", "BTXXVPSE", "BPVPXVPXVPXVVE"])
def test_paper_examples_are_reber_strings(s):
    assert reber_accepts(s) and REBER_RE.fullmatch(s)
    assert accepts(f"BT{s}TE") and accepts(f"BP{s}PE") and EMBEDDED_RE.fullmatch(f"BP{s}PE")
    assert not accepts(f"BT{s}PE") and not EMBEDDED_RE.fullmatch(f"BT{s}PE")


@pytest.mark.parametrize("s", ["BTSSXXTVVTE", "BPVE", "BTXSSE", "BSE", "BTXSEE", "TXSE"])
def test_recognisers_reject_non_strings(s):
    assert not reber_accepts(s) and not REBER_RE.fullmatch(s)


def test_every_string_is_grammatical(batch):
    strings = decode(batch)
    assert len(set(strings)) > 300
    for s in strings:
        assert accepts(s) and EMBEDDED_RE.fullmatch(s), s
        assert s[1] == s[-2] and s[1] in "TP"  # the same T/P at positions 1 and -2
        assert reber_accepts(s[2:-2])


def test_lengths_and_branch_probabilities(batch):
    strings = decode(batch)
    lengths = np.array([len(s) for s in strings])
    np.testing.assert_array_equal(lengths, batch.lengths + 1)
    assert lengths.min() == 9
    # the shortest strings: BTXSE and BPVVE inside, each 3 choices deep, plus the outer choice: 1/16 each
    n = len(strings)
    for s in ("BTBTXSETE", "BPBTXSEPE", "BTBPVVETE", "BPBPVVEPE"):
        count = strings.count(s)
        assert abs(count - n / 16) < 5 * np.sqrt(n / 16 * 15 / 16), (s, count)
    outer_t = sum(s[1] == "T" for s in strings)
    assert abs(outer_t - n / 2) < 5 * np.sqrt(n / 4)
    # nothing shorter than 9 symbols is accepted (breadth-first search over viable prefixes)
    frontier = [""]
    for _ in range(8):
        frontier = [p + c for p in frontier for c in ALPHABET if _run(p + c) is not None]
        assert not any(accepts(p) for p in frontier)
    assert sorted(p + "E" for p in frontier if accepts(p + "E")) == sorted(
        ["BTBTXSETE", "BPBTXSEPE", "BTBPVVETE", "BPBPVVEPE"]
    )


def test_one_hot_inputs_targets_mask(batch):
    n, L, _ = batch.inputs.shape
    alive = np.arange(L)[None, :] < batch.lengths[:, None]
    np.testing.assert_array_equal(batch.mask, alive)  # a target at every step
    np.testing.assert_array_equal(batch.inputs.sum(axis=2), alive.astype(float))
    np.testing.assert_array_equal(batch.targets.sum(axis=2), alive.astype(float))
    assert set(np.unique(batch.inputs)) == {0.0, 1.0}
    active = batch.info["active"]
    assert active.dtype == np.int64
    np.testing.assert_array_equal(active, np.where(alive, batch.inputs.argmax(axis=2), -1))
    # the target at step t is the input at step t+1
    np.testing.assert_array_equal(batch.targets[:, :-1][alive[:, 1:]], batch.inputs[:, 1:][alive[:, 1:]])
    assert not batch.info["legal"][~alive].any()
    # the target is always a legal next symbol
    assert batch.info["legal"][batch.targets > 0.5].all()


def test_legal_next_sets(batch):
    legal = batch.info["legal"]
    for i, s in enumerate(decode(batch)[:1500]):
        state = ("start",)
        for t in range(len(s) - 1):
            state = _step(state, s[t])
            expect = {c for c in ALPHABET if _step(state, c) is not None}
            got = {ALPHABET[k] for k in np.nonzero(legal[i, t])[0]}
            assert got == expect, (s, t)


def test_correct_is_the_top_k_rule(batch):
    rng = np.random.default_rng(3)
    task = Reber()
    legal = batch.info["legal"]
    k = legal.sum(axis=2)
    assert set(np.unique(k[batch.mask])) == {1, 2}
    ideal = legal / np.maximum(k, 1)[:, :, None]
    np.testing.assert_array_equal(task.ideal_outputs(batch), ideal)
    assert task.correct(batch, ideal).all()  # the best squared-error prediction
    # the one-hot targets leave the other legal symbol tied with the illegal ones at two-way steps (step 0
    # of every string), and ties are wrong
    assert not task.correct(batch, batch.targets).any()
    only_one_way = batch.targets.copy()
    only_one_way[k == 2] = ideal[k == 2]
    assert task.correct(batch, only_one_way).all()
    # random outputs without ties: compare with a brute-force top-k
    noisy = legal * 0.5 + rng.random(legal.shape) * 0.6
    got = task.correct(batch, noisy)
    expect = np.ones(len(batch), dtype=bool)
    for i in range(len(batch)):
        for t in range(int(batch.lengths[i])):
            top = set(np.argsort(-noisy[i, t])[: k[i, t]])
            expect[i] &= top == set(np.nonzero(legal[i, t])[0])
    np.testing.assert_array_equal(got, expect)
    assert 0.05 < got.mean() < 0.95


def test_correct_rejects_degenerate_outputs(batch):
    task = Reber()
    for value in (0.0, 0.5, 1.0, np.nan):
        assert not task.correct(batch, np.full(batch.targets.shape, value)).any()
    # one wrong step (an illegal symbol above a legal one) spoils exactly that string
    out = batch.targets * 0.8 + batch.info["legal"] * 0.1
    i, t = 7, int(batch.lengths[7]) - 1
    out[i, t, batch.info["legal"][i, t].argmin()] = 0.95
    assert task.correct(batch, out).sum() == len(batch) - 1 and not task.correct(batch, out)[i]
    # at a 2-legal step the other legal symbol must beat the illegal ones too
    out = batch.targets.copy()
    out[:, 0, :] = 0.1
    out[:, 0, 1] = 0.9 * (batch.targets[:, 0, 1] > 0) + 0.05
    out[:, 0, 2] = 0.9 * (batch.targets[:, 0, 2] > 0) + 0.05
    assert not task.correct(batch, out).any()
    # padding is ignored
    out = task.ideal_outputs(batch)
    out[~batch.mask] = 7.0
    assert task.correct(batch, out).all()


def test_make_sets_disjoint_and_deterministic():
    task = Reber()
    train, test = task.make_sets(np.random.default_rng(11))
    assert len(train) == 256 and len(test) == 256
    tr, te = decode(train), decode(test)
    assert not set(tr) & set(te)
    assert len(set(tr)) < 256  # duplicates inside the training set are allowed (and frequent)
    assert all(accepts(s) for s in tr + te)
    train2, test2 = task.make_sets(np.random.default_rng(11))
    assert decode(train2) == tr and decode(test2) == te
    assert decode(task.make_sets(np.random.default_rng(12))[0]) != tr  # a new pair per seed
    # the training set is the first 256 strings of the stream
    assert decode(task.sample(np.random.default_rng(11), 256)) == tr
    small_train, small_test = task.make_sets(np.random.default_rng(5), n_train=1000, n_test=2000)
    assert not set(decode(small_train)) & set(decode(small_test))
    assert len(small_test) == 2000


def test_fixed_sets_use_both_streams():
    task = Reber()
    train, test = task.fixed_sets(np.random.default_rng(1), np.random.default_rng(2))
    assert decode(train) == decode(task.sample(np.random.default_rng(1), 256))
    assert len(test) == 256 and not set(decode(train)) & set(decode(test))
    seen = set(decode(train))
    test_alone = [s for s in decode(task.sample(np.random.default_rng(2), 2000)) if s not in seen]
    assert decode(test) == test_alone[:256]


def test_protocol_uses_the_fixed_sets():
    proto = Reber(check_every=128).protocol()
    assert isinstance(proto.stop, EvalRule) and proto.stop.sets == ("train", "eval")
    assert proto.stop.every == 128 and proto.stop.max_wrong == 0
    assert (proto.n_train, proto.n_eval, proto.n_test, proto.test_on_eval) == (256, 256, 256, True)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12))
def test_chunk_invariance(seed, n):
    task = Reber()
    whole = assert_chunk_invariant(task, seed, n)
    assert all(whole.sequence(i)["active"].shape == (whole.lengths[i],) for i in range(n))


def test_correct_on_sub_batches():
    """The runner trains on ``take`` of the fixed training set; correct() must accept any sub-batch."""
    task = Reber()
    train, _ = task.make_sets(np.random.default_rng(4))
    index = np.array([3, 1, 4, 1, 5])
    sub = train.take(index)
    assert sub.info["legal"].shape == (5, sub.lengths.max(), 7)
    assert task.correct(sub, task.ideal_outputs(sub)).all()
    out = task.ideal_outputs(train)
    np.testing.assert_array_equal(task.correct(sub, out[index, : sub.lengths.max()]), np.ones(5, dtype=bool))
    joined = SequenceBatch.concat([sub, train.take(slice(0, 1))])
    assert (joined.info["active"][~joined.mask] == -1).all()
    assert not joined.info["legal"][~joined.mask].any()
    assert task.correct(joined, task.ideal_outputs(joined)).all()


def test_contract():
    check_task(Reber())


def test_spec_and_weight_counts():
    task = Reber()
    assert task.name == "reber" and task.spec.version == 1
    assert [p.name for p in task.spec.params] == ["check_every", "targets", "order", "success", "beta"]
    assert task.n_in == 7 and task.n_out == 7
    assert "§3.1" in task.spec.paper and "Table 10" in task.spec.paper
    assert LSTM.for_task(task).n_weights == 276  # row 1-5: 3 blocks of size 2
    assert LSTM.for_task(task, blocks=4, block_size=1, out_gate_bias=(-1, -2, -3, -4)).n_weights == 264
    hp = task.model_defaults("lstm")
    assert hp["lr"] == 0.5 and hp["bias"] == "gates" and hp["out_gate_bias"] == (-1.0, -2.0, -3.0)


@pytest.mark.parametrize("bad", [{"p": 3}, {"T": 100}])
def test_bad_parameters(bad):
    with pytest.raises(UserError):
        Reber(**bad)
