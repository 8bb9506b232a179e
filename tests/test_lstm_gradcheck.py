"""The truncated gradient (PAPER.md §1.4-1.5) against central finite differences, where truncation is exact.

Truncation drops only the paths through which weights reach the cells' and gates' net inputs via the
previous step's cell and gate outputs. It is therefore exact when nothing recurrent feeds cells and gates:
(a) connectivity "B"; (b) connectivity "F" with every recurrent weight (columns n_in: of W_in, W_out, W_c)
equal to 0 -- then the gradient is exact for all weights at that point, the recurrent ones included.

With ``update="sequence"`` one sequence changes the weights by delta = lr * sum_t (-1/2) dE(t)/dw, because
e_k (eq. 19) lacks the factor 2 of d(t-y)^2/dy. So delta / lr == -0.5 * dE/dw, with E the squared error
summed over the steps that have a target.

The plain-numpy reference (tests/reference) is checked first, so the oracle is validated independently of
the kernel; then the numba kernel (``lstm97.models.lstm``) is checked the same way, with the loss computed
by its own forward pass (``model.predict``).
"""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest
from reference.lstm_reference import (
    central_differences,
    flatten,
    make_config,
    random_batch,
    random_params,
    recurrent_columns,
    reference_loss,
    reference_train,
    squared_error,
    unflatten,
)

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-8

# (C, S, output_gate, bias, g, h): a spread of layouts and options; every value of each option appears.
EXACT_CASES = [
    (1, 1, True, "none", "g2", "h1"),
    (2, 2, True, "all", "g2", "h1"),
    (3, 1, False, "hidden", "g1", "id"),
    (1, 3, True, "gates", "g1", "h1"),
    (2, 1, False, "all", "g2", "id"),
    (2, 2, False, "none", "g1", "h1"),
]


def _cfg(C, S, connectivity, output_gate, bias, g, h, n_in=2, n_out=2, lr=0.5):
    return make_config(
        n_in=n_in,
        n_out=n_out,
        blocks=C,
        block_size=S,
        connectivity=connectivity,
        output_gate=output_gate,
        bias=bias,
        g=g,
        h=h,
        lr=lr,
        update="sequence",
    )


def _seed(*key):
    """A seed that depends on the test case only (``hash`` of a str changes between processes)."""
    return zlib.crc32(repr(key).encode())


def _zero_recurrent(params, cfg):
    rec = recurrent_columns(cfg)
    for name in ("W_in", "W_out", "W_c"):
        params[name][:, rec] = 0.0
    return params


def _sequences(seed, cfg, n=2, length=6):
    """n random sequences; each has targets at >= 2 steps and at least one step without target."""
    rng = np.random.default_rng(seed)
    inputs, targets, mask, lengths = random_batch(rng, n, length, cfg["n_in"], cfg["n_out"], min_length=4)
    for i in range(n):
        mask[i, :] = False
        steps = rng.choice(int(lengths[i]) - 1, size=2, replace=False)
        mask[i, steps] = True
        mask[i, lengths[i] - 1] = True  # a target at the sequence end, as in most experiments
    return inputs, targets, mask, lengths


def _one(batch, i):
    inputs, targets, mask, lengths = batch
    return inputs[i : i + 1], targets[i : i + 1], mask[i : i + 1], lengths[i : i + 1]


# --------------------------------------------------------------------------------------------------------
# The reference's own learning rule vs finite differences of the reference loss
# --------------------------------------------------------------------------------------------------------
def _reference_truncated_and_fd(params, cfg, seq):
    new, _ = reference_train(params, cfg, *seq, learn=True)
    truncated = (flatten(new) - flatten(params)) / cfg["lr"]
    fd = central_differences(lambda w: reference_loss(unflatten(w, cfg), cfg, *seq), flatten(params), EPS)
    return truncated, fd


@pytest.mark.parametrize("connectivity", ["B", "F"])
@pytest.mark.parametrize("C,S,output_gate,bias,g,h", EXACT_CASES)
def test_reference_gradient_is_exact_without_recurrence(C, S, output_gate, bias, g, h, connectivity):
    cfg = _cfg(C, S, connectivity, output_gate, bias, g, h)
    seed = _seed(C, S, output_gate, bias, g, h, connectivity)
    params = random_params(cfg, np.random.default_rng(seed))
    if connectivity == "F":
        _zero_recurrent(params, cfg)
    batch = _sequences(seed + 1, cfg)
    for i in range(len(batch[3])):
        truncated, fd = _reference_truncated_and_fd(params, cfg, _one(batch, i))
        assert np.abs(fd).max() > 1e-3  # the check is not vacuous
        np.testing.assert_allclose(truncated, -0.5 * fd, rtol=RTOL, atol=ATOL)


def test_reference_gradient_is_truncated_with_recurrence():
    """Under "F" with non-zero recurrent weights the rule is not the full gradient (truncation is real)."""
    cfg = _cfg(2, 2, "F", True, "all", "g2", "h1")
    params = random_params(cfg, np.random.default_rng(7))
    seq = _one(_sequences(8, cfg), 0)
    truncated, fd = _reference_truncated_and_fd(params, cfg, seq)
    gap = np.abs(truncated + 0.5 * fd)
    assert gap.max() > 1e-3 * np.abs(fd).max()
    # Output-unit weights see no truncation at all (eq. 22 with l = k is exact): they still agree.
    n_k = cfg["n_out"] * 4 + cfg["n_out"]  # W_k [n_out, 4 cells] and b_k, the last entries of flatten()
    np.testing.assert_allclose(truncated[-n_k:], -0.5 * fd[-n_k:], rtol=RTOL, atol=ATOL)


def test_reference_loss_is_the_masked_squared_error():
    cfg = _cfg(2, 1, "F", True, "all", "g2", "h1")
    params = random_params(cfg, np.random.default_rng(3))
    inputs, targets, mask, lengths = _sequences(4, cfg)
    _, outputs = reference_train(params, cfg, inputs, targets, mask, lengths, learn=False)
    expected = sum(
        float(np.sum((targets[i, t] - outputs[i, t]) ** 2))
        for i in range(len(lengths))
        for t in range(int(lengths[i]))
        if mask[i, t]
    )
    assert reference_loss(params, cfg, inputs, targets, mask, lengths) == pytest.approx(expected, rel=1e-14)
    assert squared_error(outputs, targets, mask) == pytest.approx(expected, rel=1e-14)


# --------------------------------------------------------------------------------------------------------
# The kernel's learning rule vs finite differences of the kernel's own forward pass
# --------------------------------------------------------------------------------------------------------
def _kernel(cfg):
    from lstm97.models.lstm import LSTM

    model = LSTM.for_dims(
        cfg["n_in"],
        cfg["n_out"],
        blocks=cfg["blocks"],
        block_size=cfg["block_size"],
        connectivity=cfg["connectivity"],
        output_gate=cfg["output_gate"],
        bias=cfg["bias"],
        g=cfg["g"],
        h=cfg["h"],
        lr=cfg["lr"],
        update=cfg["update"],
        init=0.1,
        in_gate_bias=None,
        out_gate_bias=None,
    )
    state = model.init_state(np.random.default_rng(0))
    return model, state


def _set(model, state, params):
    views = model.views(state.w)
    for name, value in params.items():
        views[name][...] = value


def _get(model, w):
    return {name: np.array(v, copy=True) for name, v in model.views(w).items()}


def _kernel_truncated_and_fd(cfg, params, seq):
    from lstm97.tasks import SequenceBatch

    batch = SequenceBatch(*seq)
    model, state = _kernel(cfg)
    _set(model, state, params)
    w0 = state.w.copy()
    res = model.train_chunk(state, batch)
    assert res.status == 0
    truncated = (state.w - w0) / cfg["lr"]

    _, probe = _kernel(cfg)

    def loss(w):
        probe.w[:] = w
        return squared_error(model.predict(probe, batch), batch.targets, batch.mask)

    fd = central_differences(loss, w0, EPS)
    return truncated, fd, model


@pytest.mark.parametrize("connectivity", ["B", "F"])
@pytest.mark.parametrize("C,S,output_gate,bias,g,h", EXACT_CASES)
def test_kernel_gradient_is_exact_without_recurrence(C, S, output_gate, bias, g, h, connectivity):
    cfg = _cfg(C, S, connectivity, output_gate, bias, g, h)
    seed = _seed(C, S, output_gate, bias, g, h, connectivity, "kernel")
    params = random_params(cfg, np.random.default_rng(seed))
    if connectivity == "F":
        _zero_recurrent(params, cfg)
    batch = _sequences(seed + 1, cfg)
    for i in range(len(batch[3])):
        truncated, fd, model = _kernel_truncated_and_fd(cfg, params, _one(batch, i))
        assert np.abs(fd).max() > 1e-3
        try:
            np.testing.assert_allclose(truncated, -0.5 * fd, rtol=RTOL, atol=ATOL)
        except AssertionError as err:  # name the weight arrays that disagree
            got, want = _get(model, truncated), _get(model, -0.5 * fd)
            bad = [k for k in got if not np.allclose(got[k], want[k], rtol=RTOL, atol=ATOL)]
            raise AssertionError(f"sequence {i}: arrays {bad} differ\n{err}") from None


def test_kernel_gradient_is_truncated_with_recurrence():
    """Under "F" with non-zero recurrent weights the kernel's rule differs from the full gradient."""
    cfg = _cfg(2, 2, "F", True, "all", "g2", "h1")
    params = random_params(cfg, np.random.default_rng(7))
    seq = _one(_sequences(8, cfg), 0)
    truncated, fd, model = _kernel_truncated_and_fd(cfg, params, seq)
    gap = _get(model, np.abs(truncated + 0.5 * fd))
    scale = np.abs(fd).max()
    # The recurrent cell-input weights are truncated; the output-unit weights are not.
    assert gap["W_c"][:, recurrent_columns(cfg)].max() > 1e-3 * scale
    assert gap["W_k"].max() < ATOL + RTOL * scale
    assert gap["b_k"].max() < ATOL + RTOL * scale


@pytest.mark.parametrize("connectivity,output_gate", list(itertools.product(["B", "F"], [True, False])))
def test_kernel_and_reference_agree_on_the_exact_gradient(connectivity, output_gate):
    """Both learning rules, both finite-difference gradients: four numbers that must coincide."""
    cfg = _cfg(2, 2, connectivity, output_gate, "all", "g2", "h1")
    params = random_params(cfg, np.random.default_rng(11))
    if connectivity == "F":
        _zero_recurrent(params, cfg)
    seq = _one(_sequences(12, cfg), 0)
    k_trunc, k_fd, model = _kernel_truncated_and_fd(cfg, params, seq)
    r_trunc, r_fd = _reference_truncated_and_fd(params, cfg, seq)
    # the flat orders may differ: compare by name
    for name, value in _get(model, k_trunc).items():
        np.testing.assert_allclose(value, unflatten(r_trunc, cfg)[name], rtol=0, atol=1e-10, err_msg=name)
    for name, value in _get(model, k_fd).items():
        np.testing.assert_allclose(value, unflatten(r_fd, cfg)[name], rtol=RTOL, atol=ATOL, err_msg=name)
