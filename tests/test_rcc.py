"""Recurrent Cascade-Correlation (``rcc``; PAPER.md §2, §11.5; Table 1).

* the cascade's forward pass vs the plain-numpy reference (tests/reference/rcc_reference.py) to 1e-12;
* the output weights' epoch slopes vs the reference and, with offset 0, vs central finite differences of
  E = 1/2 sum (y - t)^2;
* a candidate's forward-mode slopes: the kernel's dS/dw from its epoch sums vs the reference and vs central
  finite differences of the covariance score S (~1e-7); its S vs the reference's;
* Quickprop steps vs hand-computed numbers and the reference, for every branch; one output epoch's update;
* installation at the end of a candidate phase (frozen weights, output weights -cov / sum E^2); growth up to
  the unit limit and the weight count; chunk invariance across phase changes, bit for bit;
* the public contract and a CLI run on the Reber task.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from reference import rcc_reference as ref

from lstm97 import models, tasks
from lstm97.checks import check_model
from lstm97.cli import main
from lstm97.models._rcc_kernels import cand_grad, cand_score, quickprop
from lstm97.models.rcc import RCC
from lstm97.results import Store
from lstm97.tasks import SequenceBatch

N_IN, N_OUT = 3, 2


def _batch(rng, n, L=6):
    lengths = rng.integers(2, L + 1, n).astype(np.int64)
    steps = np.arange(L)[None, :] < lengths[:, None]
    inputs = np.where(steps[..., None], rng.normal(size=(n, L, N_IN)), 0.0)
    mask = (rng.random((n, L)) < 0.7) & steps
    targets = np.where(mask[..., None], (rng.random((n, L, N_OUT)) < 0.5).astype(float), 0.0)
    return SequenceBatch(inputs, targets, mask, lengths, {})


def _seqs(b):
    return [
        (b.inputs[i, : b.lengths[i]], b.targets[i, : b.lengths[i]], b.mask[i, : b.lengths[i]]) for i in range(len(b))
    ]


def _model(**hp):
    return RCC(N_IN, N_OUT, **{"max_units": 3, "candidates": 3, **hp})


def _cascade(model, rng, h):
    """A state with h installed units of random weights (outputs from every source)."""
    state = model.init_state(rng)
    v = model.views(state.w)
    n = 1 + N_IN
    v["W_o"][:, : n + h] = rng.uniform(-1, 1, (N_OUT, n + h))
    for k in range(h):
        v["W_h"][k, : n + k] = rng.uniform(-1, 1, n + k)
        v["w_self"][k] = rng.uniform(-1, 1)
    state.extra["hidden"] = h
    return state


def _net(model, state):
    v = model.views(state.w)
    return v["W_o"], v["W_h"], v["w_self"], model.hidden(state)


@pytest.mark.kernel
@pytest.mark.parametrize("unit", ["logistic", "symmetric"])
def test_forward_matches_reference(unit):
    rng = np.random.default_rng(0)
    model = _model(unit=unit)
    state = _cascade(model, rng, 3)
    b = _batch(rng, 5)
    out = model.predict(state, b)
    W_o, W_h, w_self, h = _net(model, state)
    for i, (x, _, _) in enumerate(_seqs(b)):
        _, y = ref.forward(W_o, W_h, w_self, h, x, unit)
        np.testing.assert_allclose(out[i, : len(x)], y, rtol=0, atol=1e-12)


@pytest.mark.kernel
def test_output_slopes_match_reference_and_finite_differences():
    rng = np.random.default_rng(1)
    model = _model(offset=0.0, epoch=1000)  # no epoch ends: the slopes stay summed in the state
    state = _cascade(model, rng, 2)
    b = _batch(rng, 4)
    W0 = model.views(state.w.copy())
    model.train_chunk(state, b)
    acc = state.extra["acc_o"]
    W_o, W_h, w_self, h = W0["W_o"], W0["W_h"], W0["w_self"], 2
    seqs = _seqs(b)
    np.testing.assert_allclose(acc, ref.output_slopes(W_o, W_h, w_self, h, seqs), rtol=0, atol=1e-12)
    eps = 1e-6
    na = 1 + N_IN + h
    for o in range(N_OUT):
        for j in range(na):
            plus, minus = W_o.copy(), W_o.copy()
            plus[o, j] += eps
            minus[o, j] -= eps
            loss = lambda W: ref.output_loss(W, W_h, w_self, h, seqs)  # noqa: E731
            fd = (loss(plus) - loss(minus)) / (2 * eps)
            assert abs(fd - acc[o, j]) < 1e-7
    assert not acc[:, na:].any()  # sources not installed get no slope


def _candidate_state(model, rng, h, b):
    """A state in the candidate phase with a random pool, trained on ``b`` within one epoch (sums only)."""
    state = _cascade(model, rng, h)
    ex = state.extra
    ex["phase"] = "candidates"
    M = model.layout.shapes["W_o"][1]
    cw = rng.uniform(-1, 1, ex["cand_w"].shape)
    cw[:, 1 + N_IN + h : M] = 0.0
    ex["cand_w"] = cw
    model.train_chunk(state, b)
    return state, cw


@pytest.mark.kernel
@pytest.mark.parametrize("unit", ["logistic", "symmetric"])
def test_candidate_slopes_are_the_gradient_of_the_covariance(unit):
    rng = np.random.default_rng(2)
    offset = 0.1
    model = _model(unit=unit, offset=offset, epoch=1000)
    b = _batch(rng, 4)
    h = 2
    state, cw = _candidate_state(model, rng, h, b)
    ex = state.extra
    n = ex["sums"][3]
    assert n == b.mask.sum()
    net = _net(model, state)
    seqs = _seqs(b)
    na = 1 + N_IN + h
    M = cw.shape[1] - 1
    for c in range(cw.shape[0]):
        S, cov, grad, see = ref.candidate_score(cw[c], net, seqs, offset, unit)
        assert abs(cand_score(ex["sv"], ex["sve"], ex["se"], n, c) - S) < 1e-12
        g = np.zeros(M + 1)
        cand_grad(ex["sv"], ex["sve"], ex["sdv"], ex["sedv"], ex["se"], n, c, na, g)
        active = list(range(na)) + [M]
        np.testing.assert_allclose(g[active], grad[active], rtol=0, atol=1e-12)
        assert not g[na:M].any()
        eps = 1e-6
        for j in active:
            plus, minus = cw[c].copy(), cw[c].copy()
            plus[j] += eps
            minus[j] -= eps
            score = lambda w: ref.candidate_score(w, net, seqs, offset, unit)[0]  # noqa: E731
            fd = (score(plus) - score(minus)) / (2 * eps)
            assert abs(fd - g[j]) < 1e-7 * max(1.0, abs(fd))
        assert abs(see - ex["sums"][2]) < 1e-12


@pytest.mark.kernel
@pytest.mark.parametrize(
    "w, d, s, p, want",
    [
        # d = 0: a gradient step -eps s (+ decay w in the slope): s = 0.5 + 0.01 * 2 = 0.52, step -0.052
        (2.0, 0.0, 0.5, 0.3, -0.052),
        # d < 0, s > 0: -eps s + secant d s / (p - s) when s < shrink p: s=0.52 < 0.7*1 (mu=7/3 -> shrink .7)
        (2.0, -0.1, 0.5, 1.0, -0.052 + (-0.1) * 0.52 / (1.0 - 0.52)),
        # d < 0, s >= shrink p: -eps s + mu d
        (2.0, -0.1, 0.9, 1.0, -0.1 * 0.92 + (7 / 3) * -0.1),
        # d > 0, s < 0: -eps s + secant: s = -0.5 + 0.02 = -0.48 > shrink p = -0.7
        (2.0, 0.1, -0.5, -1.0, 0.048 + 0.1 * -0.48 / (-1.0 + 0.48)),
        # d > 0, s > 0 (the slope turned): no gradient term, secant only: s = 0.32
        (2.0, 0.1, 0.3, -1.0, 0.1 * 0.32 / (-1.0 - 0.32)),
    ],
)
def test_quickprop_step_by_hand(w, d, s, p, want):
    eps, decay, mu = 0.1, 0.01, 7 / 3
    new_w, step, slope = quickprop(w, d, s, p, eps, decay, mu)
    assert abs(step - want) < 1e-15 and new_w == w + step and slope == s + decay * w
    rw, rstep, rs = ref.quickprop(w, d, s, p, eps, decay, mu)
    assert abs(rstep - step) < 1e-15 and rs == slope


@pytest.mark.kernel
def test_one_output_epoch_is_one_quickprop_step():
    rng = np.random.default_rng(3)
    b = _batch(rng, 4)
    model = _model(epoch=4, out_epsilon=0.7, out_decay=0.001, out_mu=1.75)
    state = _cascade(model, rng, 1)
    before = model.views(state.w.copy())
    model.train_chunk(state, b)
    W_o, W_h, w_self, h = before["W_o"], before["W_h"], before["w_self"], 1
    slopes = ref.output_slopes(W_o, W_h, w_self, h, _seqs(b), offset=0.1)
    eps = 0.7 / b.mask.sum()
    na = 1 + N_IN + h
    got = model.views(state.w)["W_o"]
    for o in range(N_OUT):
        for j in range(na):
            want = ref.quickprop(W_o[o, j], 0.0, slopes[o, j], 0.0, eps, 0.001, 1.75)[0]
            assert abs(got[o, j] - want) < 1e-12
    assert state.extra["epochs"] == 1 and state.extra["pos"] == 0 and not state.extra["acc_o"].any()


def _grow_model(**hp):
    # short phases: epochs of 3 sequences, patience 1, at most 3 epochs per phase
    short = dict(epoch=3, out_patience=1, in_patience=1, out_epochs=3, in_epochs=3)
    return _model(**{**short, **hp})


@pytest.mark.kernel
def test_install_freezes_the_best_candidate():
    rng = np.random.default_rng(4)
    model = _grow_model(in_epochs=1)  # the candidate phase is one epoch: it installs from that epoch's sums
    state = model.init_state(np.random.default_rng(5))
    state.extra.update(phase="candidates")
    b = _batch(rng, 3)
    cw = model._table(state.extra["seed"])[0].copy()
    cw[:, 1 + N_IN : -1] = 0.0
    state.extra["cand_w"] = cw.copy()
    net = _net(model, state)
    scores = [ref.candidate_score(cw[c], net, _seqs(b), 0.1) for c in range(len(cw))]
    best = int(np.argmax([s[0] for s in scores]))
    model.train_chunk(state, b)
    ex = state.extra
    assert ex["hidden"] == 1 and ex["phase"] == "output" and ex["best"] == best and ex["installed_at"][0] == 1
    v = model.views(state.w)
    n = 1 + N_IN
    np.testing.assert_array_equal(v["W_h"][0, :n], cw[best, :n])
    assert v["w_self"][0] == cw[best, -1] and not v["W_h"][0, n:].any()
    _, cov, _, see = scores[best]
    np.testing.assert_allclose(v["W_o"][:, n], -cov / see, rtol=0, atol=1e-12)
    assert model.n_weights == ref.installed_weights(N_IN, N_OUT, 1) == int(model.free().sum())


@pytest.mark.kernel
def test_grows_to_the_unit_limit_and_stops():
    rng = np.random.default_rng(6)
    model = _grow_model(max_units=2)
    state = model.init_state(rng)
    b = _batch(rng, 60)
    assert model.train_chunk(state, b).status == 0
    ex = state.extra
    assert ex["hidden"] == 2 and ex["phase"] == "done"
    assert list(ex["installed_at"]) == sorted(ex["installed_at"]) and ex["installed_at"][1] > 0
    assert model.n_weights == ref.installed_weights(N_IN, N_OUT, 2)
    assert not state.w[~model.free()].any()  # nothing outside the installed net
    w = state.w.copy()
    model.train_chunk(state, _batch(rng, 6))  # done: nothing changes
    np.testing.assert_array_equal(w, state.w)


@pytest.mark.kernel
def test_chunk_invariance_across_phases():
    rng = np.random.default_rng(7)
    model = _grow_model(max_units=2)
    b = _batch(rng, 40)
    one = model.init_state(np.random.default_rng(8))
    out = model.train_chunk(one, b).outputs
    for cuts in ([0, 1, 7, 8, 20, 40], list(range(41))):
        state = model.init_state(np.random.default_rng(8))
        for a, z in zip(cuts[:-1], cuts[1:], strict=True):
            part = model.train_chunk(state, b.take(slice(a, z))).outputs
            np.testing.assert_array_equal(part, out[a:z, : part.shape[1]])
        np.testing.assert_array_equal(one.w, state.w)
        for key, value in one.extra.items():
            np.testing.assert_array_equal(value, state.extra[key])
    assert one.extra["hidden"] >= 1


def test_contract_on_reber():
    task = tasks.make("reber")
    check_model(models.make("rcc", task), task)
    assert "rcc" in models.names()


def test_cli_run_on_reber(tmp_path):
    store = str(tmp_path / "s.sqlite")
    args = ["run", "reber", "--model", "rcc", "--trials", "2", "--max-sequences", "20000", "--jobs", "1"]
    res = CliRunner().invoke(main, [*args, "--store", store])
    assert res.exit_code == 0, res.output
    with Store(store) as s:
        df = s.trials()
    assert len(df) == 2
    for _, row in df.iterrows():
        h = row["state"]["hidden"]
        assert row["n_weights"] == ref.installed_weights(7, 7, h)
        assert row["sequences"] <= 20000
