"""The GRU model (``gru``; Cho et al. 2014, not in the paper), trained online by full BPTT with sgd, adam or
rmsprop.

* the plain-numpy reference (tests/reference/gru_reference.py): its BPTT gradient equals -1/2 dE/dw by central
  differences of its loss, for both reset variants and both output layers;
* kernel vs reference to 1e-10 (outputs, weights, optimiser moments and step count) over several sequences of
  different lengths and masks, for every optimiser, reset variant and output layer; the kernel's one SGD step
  is lr * (-1/2 dE/dw) by central differences of ``predict``;
* with PyTorch installed: forward pass and Adam steps equal to ``nn.GRU`` + ``torch.optim.Adam`` on E/2;
* chunk invariance (weights, outputs and optimiser state), one-hot = dense inputs, no target no change,
  non-finite values give status 1, a state read back from the store (lists) trains the same;
* the weight count, the registry's description, the public contract for every optimiser, and a CLI run.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from reference.batches import one_hot_batch
from reference.gru_reference import (
    PARAM_NAMES,
    central_differences,
    flatten,
    forward,
    gradient,
    loss,
    make_config,
    n_weights,
    random_batch,
    random_params,
    reference_train,
    squared_error,
    unflatten,
)

from lstm97 import models, tasks
from lstm97.checks import check_model
from lstm97.cli import main
from lstm97.models.gru import GRU
from lstm97.results import Store
from lstm97.tasks import SequenceBatch

ATOL = 1e-10
EPS = 1e-6
RTOL = 1e-6

OPTIMIZERS = ["sgd", "adam", "rmsprop"]
VARIANTS = [True, False]  # reset_after
OUTPUTS = ["logistic", "linear"]
#: learning rates that move the weights visibly in a few steps (adam and rmsprop steps are about lr each)
LR = {"sgd": 0.5, "adam": 0.05, "rmsprop": 0.02}


def _seed(*key):
    """A seed that depends on the test case only (``hash`` of a str changes between processes)."""
    return zlib.crc32(repr(key).encode())


def _cfg(**kw):
    base = dict(n_in=3, n_out=2, hidden=3)
    base.update(kw)
    return make_config(base)


def _model(cfg):
    keys = ("hidden", "reset_after", "output", "optimizer", "lr", "beta1", "beta2", "rho", "eps")
    return GRU.for_dims(cfg["n_in"], cfg["n_out"], **{k: cfg[k] for k in keys})


def _state(model, params):
    """The model's initial state (fresh moments) with the reference's weights."""
    state = model.init_state(np.random.default_rng(0))
    state.w[:] = flatten(params)
    return state


def _data(cfg, seed, n=5, length=7):
    """Random padded sequences of lengths in [1, 7]; sequence 1 has no target, sequence 2 one at every step."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, n, length, cfg["n_in"], cfg["n_out"], p_target=0.4)
    mask[1, :] = False
    mask[2, : lengths[2]] = True
    return inputs, targets, mask, lengths


def _sequence(cfg, seed, length=6):
    """One sequence with targets at >= 2 steps, the last one included."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, 1, length, cfg["n_in"], cfg["n_out"])
    mask[0, :] = False
    mask[0, rng.choice(length - 1, size=2, replace=False)] = True
    mask[0, length - 1] = True
    return inputs, targets, mask, lengths


# --------------------------------------------------------------------------------------------------------
# The reference: BPTT is the gradient
# --------------------------------------------------------------------------------------------------------
@pytest.mark.kernel
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_reference_bptt_is_the_gradient(reset_after, output):
    cfg = _cfg(reset_after=reset_after, output=output)
    seed = _seed("ref-fd", reset_after, output)
    params = random_params(cfg, np.random.default_rng(seed))
    inputs, targets, mask, lengths = _sequence(cfg, seed + 1)
    d = flatten(gradient(params, cfg, inputs[0], targets[0], mask[0]))
    fd = central_differences(
        lambda w: loss(unflatten(w, cfg), cfg, inputs, targets, mask, lengths), flatten(params), EPS
    )
    assert np.abs(fd).min() < np.abs(fd).max() and np.abs(fd).max() > 1e-3
    np.testing.assert_allclose(d, -0.5 * fd, rtol=RTOL, atol=1e-8)


@pytest.mark.kernel
def test_reference_variants_differ_and_agree_where_they_must():
    """The reset variants differ in general; with the reset gate held open (r = 1) they are the same net."""
    cfg = _cfg()
    params = random_params(cfg, np.random.default_rng(5))
    x = np.random.default_rng(6).uniform(-1, 1, (5, 3))
    after = forward(params, cfg, x)["y"]
    before = forward(params, make_config(cfg, reset_after=False), x)["y"]
    assert np.abs(after - before).max() > 1e-3
    open_gate = {k: v.copy() for k, v in params.items()}
    H = cfg["hidden"]
    open_gate["b_ih"][:H] = 50.0  # r = σ(50 + ...) = 1 to double precision
    np.testing.assert_allclose(
        forward(open_gate, cfg, x)["y"], forward(open_gate, make_config(cfg, reset_after=False), x)["y"], atol=1e-14
    )


# --------------------------------------------------------------------------------------------------------
# Kernel vs reference
# --------------------------------------------------------------------------------------------------------
@pytest.mark.kernel
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("reset_after", VARIANTS)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_kernel_matches_reference(optimizer, reset_after, output):
    cfg = _cfg(reset_after=reset_after, output=output, optimizer=optimizer, lr=LR[optimizer])
    seed = _seed(optimizer, reset_after, output)
    params = random_params(cfg, np.random.default_rng(seed))
    arrays = _data(cfg, seed + 1)
    ref_params, ref_outputs, ref_state = reference_train(params, cfg, *arrays)

    model = _model(cfg)
    state = _state(model, params)
    res = model.train_chunk(state, SequenceBatch(*arrays))
    assert res.status == 0 and res.n_done == len(arrays[3])
    np.testing.assert_allclose(res.outputs, ref_outputs, rtol=0, atol=ATOL, err_msg="outputs")
    got = model.views(state.w)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(got[name], ref_params[name], rtol=0, atol=ATOL, err_msg=name)
    assert np.abs(state.w - flatten(params)).max() > 1e-2  # not vacuous
    if optimizer == "sgd":
        assert state.extra is None
    else:
        np.testing.assert_allclose(state.extra["v"], ref_state["v"], rtol=0, atol=ATOL)
        assert state.extra["v"].max() > 0
    if optimizer == "adam":
        np.testing.assert_allclose(state.extra["m"], ref_state["m"], rtol=0, atol=ATOL)
        assert state.extra["t"] == ref_state["t"] == int(arrays[2].any(axis=1).sum()) >= 2


@pytest.mark.kernel
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_kernel_sgd_step_is_the_gradient(reset_after, output):
    """One sequence with SGD: Delta w == lr * (-1/2 dE/dw), dE/dw by central differences of ``predict``."""
    cfg = _cfg(reset_after=reset_after, output=output, lr=0.7)
    seed = _seed("kernel-fd", reset_after, output)
    params = random_params(cfg, np.random.default_rng(seed))
    batch = SequenceBatch(*_sequence(cfg, seed + 1))
    model = _model(cfg)
    state = _state(model, params)
    w0 = state.w.copy()
    assert model.train_chunk(state, batch).status == 0
    probe = model.init_state(np.random.default_rng(0))

    def predicted_loss(w):
        probe.w[:] = w
        return squared_error(model.predict(probe, batch), batch.targets, batch.mask)

    fd = central_differences(predicted_loss, w0, EPS)
    assert np.abs(fd).max() > 1e-3
    np.testing.assert_allclose((state.w - w0) / cfg["lr"], -0.5 * fd, rtol=RTOL, atol=1e-8)


@pytest.mark.kernel
@pytest.mark.parametrize("reset_after", VARIANTS)
def test_predict_is_the_forward_pass_and_keeps_the_weights(reset_after):
    cfg = _cfg(reset_after=reset_after)
    params = random_params(cfg, np.random.default_rng(3))
    batch = SequenceBatch(*_data(cfg, 4))
    model = _model(cfg)
    state = _state(model, params)
    w0 = state.w.copy()
    out = model.predict(state, batch)
    np.testing.assert_array_equal(state.w, w0)
    for i in range(len(batch)):
        T = int(batch.lengths[i])
        np.testing.assert_allclose(out[i, :T], forward(params, cfg, batch.inputs[i, :T])["y"], rtol=0, atol=ATOL)
        assert not out[i, T:].any()
    res = model.train_chunk(state, batch)  # the first sequence's outputs: the initial weights, bit for bit
    np.testing.assert_array_equal(res.outputs[0], out[0])
    assert not np.array_equal(res.outputs[2], out[2])  # later sequences: the weights after an update


def test_against_pytorch():
    """nn.GRU (reset after the product, PyTorch's only variant) + a linear output layer + torch.optim.Adam on
    the loss E/2, one step per sequence, equal the kernel's outputs and weights."""
    torch = pytest.importorskip("torch")
    cfg = _cfg(optimizer="adam", lr=0.05, output="linear", hidden=4)
    params = random_params(cfg, np.random.default_rng(11))
    inputs, targets, mask, lengths = _data(cfg, 12)
    model = _model(cfg)
    state = _state(model, params)
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))

    gru = torch.nn.GRU(cfg["n_in"], cfg["hidden"], batch_first=True).double()
    out_layer = torch.nn.Linear(cfg["hidden"], cfg["n_out"]).double()
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            ours = "W_" + name[7:9] if name.startswith("weight") else "b_" + name[5:7]
            getattr(gru, name).copy_(torch.from_numpy(params[ours]))
        out_layer.weight.copy_(torch.from_numpy(params["W_o"]))
        out_layer.bias.copy_(torch.from_numpy(params["b_o"]))
    opt = torch.optim.Adam([*gru.parameters(), *out_layer.parameters()], lr=0.05, betas=(0.9, 0.999), eps=1e-8)
    for i in range(len(lengths)):
        T = int(lengths[i])
        y = out_layer(gru(torch.from_numpy(inputs[i : i + 1, :T]))[0])[0]
        np.testing.assert_allclose(y.detach().numpy(), res.outputs[i, :T], rtol=0, atol=1e-10)
        if mask[i, :T].any():
            m = torch.from_numpy(mask[i, :T, None].astype(np.float64))
            e = 0.5 * (((torch.from_numpy(targets[i, :T]) - y) * m) ** 2).sum()
            opt.zero_grad()
            e.backward()
            opt.step()
    got = model.views(state.w)
    with torch.no_grad():
        np.testing.assert_allclose(got["W_ih"], gru.weight_ih_l0.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["W_hh"], gru.weight_hh_l0.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["b_hh"], gru.bias_hh_l0.numpy(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got["W_o"], out_layer.weight.numpy(), rtol=0, atol=1e-10)


# --------------------------------------------------------------------------------------------------------
# Execution details that must not change results
# --------------------------------------------------------------------------------------------------------
@pytest.mark.kernel
@pytest.mark.parametrize("one_hot", [False, True])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_chunk_invariance(optimizer, one_hot):
    """One chunk of n, chunks of 4 and single sequences give the same weights, optimiser state and outputs,
    bit for bit."""
    n, n_in = 11, 4
    model = GRU.for_dims(n_in, 2, hidden=3, optimizer=optimizer, lr=LR[optimizer], reset_after=not one_hot)
    rng = np.random.default_rng(_seed("chunks", optimizer, one_hot))
    if one_hot:
        batch = one_hot_batch(rng, n, n_in, 2, 8)
    else:
        batch = SequenceBatch(*random_batch(rng, n, 8, n_in, 2))
    results = []
    for size in (n, 4, 1):
        state = model.init_state(np.random.default_rng(2))
        outputs = []
        for start in range(0, n, size):
            part = batch.take(slice(start, start + size))
            res = model.train_chunk(state, part)
            assert res.status == 0 and res.n_done == len(part)
            outputs.extend(res.outputs[i, : part.lengths[i]] for i in range(len(part)))
        results.append((state, outputs))
    first, first_out = results[0]
    for state, outputs in results[1:]:
        np.testing.assert_array_equal(state.w, first.w)
        assert (state.extra is None) == (first.extra is None)
        for key in first.extra or {}:
            np.testing.assert_array_equal(state.extra[key], first.extra[key])
        for a, b in zip(outputs, first_out, strict=True):
            np.testing.assert_array_equal(a, b)
    if optimizer == "adam":
        assert first.extra["t"] == int(batch.mask.any(axis=1).sum()) > 0


@pytest.mark.kernel
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_one_hot_equals_dense(optimizer):
    n_in = 6
    model = GRU.for_dims(n_in, 2, hidden=3, optimizer=optimizer, lr=LR[optimizer])
    sparse = one_hot_batch(np.random.default_rng(_seed("sparse", optimizer)), 9, n_in, 2, 9)
    dense = SequenceBatch(sparse.inputs, sparse.targets, sparse.mask, sparse.lengths)
    s1, s2 = model.init_state(np.random.default_rng(1)), model.init_state(np.random.default_rng(1))
    w0 = s1.w.copy()
    r1, r2 = model.train_chunk(s1, sparse), model.train_chunk(s2, dense)
    assert np.abs(s1.w - w0).max() > 1e-3
    np.testing.assert_array_equal(r1.outputs, r2.outputs)
    np.testing.assert_array_equal(s1.w, s2.w)
    np.testing.assert_array_equal(model.predict(s1, sparse), model.predict(s2, dense))


@pytest.mark.kernel
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_no_targets_no_change(optimizer):
    model = GRU.for_dims(3, 2, optimizer=optimizer)
    inputs, targets, mask, lengths = _data(_cfg(), 2)
    state = model.init_state(np.random.default_rng(1))
    before = state.copy()
    model.train_chunk(state, SequenceBatch(inputs, targets, np.zeros_like(mask), lengths))
    np.testing.assert_array_equal(state.w, before.w)
    for key in before.extra or {}:
        np.testing.assert_array_equal(state.extra[key], before.extra[key])


@pytest.mark.kernel
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_non_finite_gives_status_1(optimizer):
    model = GRU.for_dims(3, 2, optimizer=optimizer)
    inputs, targets, mask, lengths = _data(_cfg(), 9)
    state = model.init_state(np.random.default_rng(0))
    state.w[0] = np.nan  # a non-finite weight: the first sequence already fails
    res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
    assert (res.status, res.n_done) == (1, 0) and np.isnan(res.outputs).all()
    assert np.isnan(model.predict(state, SequenceBatch(inputs, targets, mask, lengths))).all()
    state = model.init_state(np.random.default_rng(0))
    inputs = inputs.copy()
    inputs[3, 0, 0] = np.nan  # a non-finite input in sequence 3: sequences 0 to 2 are done (an infinite one
    with np.errstate(invalid="ignore"):  # would only saturate the gates of predict's forward pass)
        res = model.train_chunk(state, SequenceBatch(inputs, targets, mask, lengths))
        out = model.predict(model.init_state(np.random.default_rng(0)), SequenceBatch(inputs, targets, mask, lengths))
    assert (res.status, res.n_done) == (1, 3)
    assert np.isfinite(res.outputs[:3]).all() and np.isnan(res.outputs[3:]).all()
    assert np.isfinite(out[:3]).all() and np.isnan(out[3:]).all()


@pytest.mark.kernel
def test_a_stored_state_trains_the_same():
    """The store keeps ``extra`` as JSON (lists, a plain int): such a state trains like the original."""
    model = GRU.for_dims(3, 2, optimizer="adam", lr=0.05)
    batch = SequenceBatch(*_data(_cfg(), 7))
    state = model.init_state(np.random.default_rng(1))
    model.train_chunk(state, batch)
    stored = state.copy()
    stored.extra = {"m": stored.extra["m"].tolist(), "v": stored.extra["v"].tolist(), "t": stored.extra["t"]}
    model.train_chunk(state, batch)
    model.train_chunk(stored, batch)
    np.testing.assert_array_equal(stored.w, state.w)
    np.testing.assert_array_equal(stored.extra["m"], state.extra["m"])
    assert stored.extra["t"] == state.extra["t"] == 8


# --------------------------------------------------------------------------------------------------------
# The model in the suite
# --------------------------------------------------------------------------------------------------------
@pytest.mark.kernel
def test_weight_count_and_description():
    task = tasks.make("adding", T=20)
    model = models.make("gru", task)
    H = model.hp["hidden"]
    assert (H, model.hp["optimizer"], model.hp["reset_after"], model.hp["output"]) == (8, "sgd", True, "logistic")
    assert model.n_weights == 3 * H * (2 + H + 2) + 1 * (H + 1) == 297 == n_weights(_cfg(n_in=2, n_out=1, hidden=8))
    assert models.make("gru", task, hidden=4, reset_after=False).n_weights == 101  # the LSTM's is 93
    fp = model.footprint()
    assert fp.bytes >= 5 * 8 * model.n_weights and fp.flops_per_step >= 6 * model.n_weights
    res = CliRunner().invoke(main, ["models", "gru", "--task", "adding"])
    assert res.exit_code == 0, res.output
    assert "Cho et al. 2014" in res.output and "reset_after" in res.output and "adam" in res.output
    assert "297 weights" in res.output


@pytest.mark.parametrize("hp", [{"optimizer": "adam"}, {"optimizer": "rmsprop", "reset_after": False}])
@pytest.mark.parametrize("task", [("long-lag", {"p": 4}), ("reber", {})], ids=["long-lag", "reber"])
def test_contract_with_other_settings(task, hp):
    """The default settings are checked on every task by tests/test_contracts.py; the others here."""
    t = tasks.make(task[0], **task[1])
    check_model(models.make("gru", t, output="linear", **hp), t)


def test_cli_run(tmp_path):
    store = str(tmp_path / "s.sqlite")
    args = ["run", "adding", "-p", "T=20", "--model", "gru", "--trials", "2", "--max-sequences", "2000"]
    res = CliRunner().invoke(main, [*args, "--jobs", "1", "--store", store])
    assert res.exit_code == 0, res.output
    assert "adding T=20 · gru" in res.output
    with Store(store) as s:
        df = s.trials()
    assert sorted(df["seed"]) == [0, 1] and set(df["model"]) == {"gru"}
    assert (df["sequences"] > 0).all() and (df["sequences"] <= 2000).all()
