"""Resource check: a configuration whose memory or time per step is out of reach is refused at once, by
``models.make`` itself, with the estimate and the limit, before any heavy set-up; every paper preset passes."""

import itertools
import time
import tracemalloc

import numba
import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.errors import UserError
from lstm97.models.base import MAX_FLOPS_ENV, MAX_MEMORY_ENV, Footprint, format_bytes, memory_limit
from lstm97.models.rnn import RecurrentNet
from lstm97.models.rtrl import RTRL

#: The JIT-off CI step runs these (NUMBA_DISABLE_JIT=1 pytest -m kernel).
pytestmark = pytest.mark.kernel

try:
    from lstm97.paper.presets import PRESETS
except ImportError:  # older layout
    from lstm97.report.presets import PRESETS

GiB = 2**30


@pytest.fixture
def six_gib(monkeypatch):
    """The limits of a machine with 24 GiB (25 % of it), whatever the machine running the test has."""
    monkeypatch.setenv(MAX_MEMORY_ENV, str(6 * GiB))
    monkeypatch.delenv(MAX_FLOPS_ENV, raising=False)


@pytest.fixture
def no_heavy_setup(monkeypatch):
    """Fail loudly if a model gets past the check into its heavy set-up (masks, RTRL's plan)."""

    def forbidden(self):
        raise AssertionError("heavy set-up ran before the resource check refused the configuration")

    monkeypatch.setattr(RecurrentNet, "build", forbidden)
    monkeypatch.setattr(RTRL, "_make_plan", forbidden)


def _refused(name, task, **hp):
    t0 = time.perf_counter()
    with pytest.raises(UserError) as err:
        models.make(name, task, **hp)
    assert time.perf_counter() - t0 < 1.0
    return str(err.value)


def test_rtrl_on_exp2a_with_p_10000_is_refused_for_memory(six_gib, no_heavy_setup):
    task = tasks.make("long-lag", p=10000)
    msg = _refused(
        "rtrl", task, arch="layered", hidden=1, recurrence="self", skip=True, bias=False, act="logistic", init=0.2
    )
    assert msg.startswith("model 'rtrl' on long-lag(p=10000) needs about ") and " GiB of memory " in msg
    assert "(limit 6.0 GiB, set by LSTM97_MAX_MEMORY)" in msg and "fewer hidden units" in msg
    assert "\n" not in msg  # one line for the CLI
    assert "of memory" in _refused("rnn-bptt", task)  # the paper's BPTT net there too


def test_fully_recurrent_rtrl_is_refused_for_time(six_gib, no_heavy_setup):
    msg = _refused("rtrl", tasks.make("reber"), arch="wz", hidden=300)
    assert "operations per time step (limit 1e+09" in msg and MAX_FLOPS_ENV in msg


@pytest.mark.parametrize("hp", [{"blocks": 10_000, "block_size": 1000}, {"blocks": 10_000}])
def test_a_huge_lstm_is_refused(six_gib, hp):
    msg = _refused("lstm", tasks.make("adding", T=100), in_gate_bias=None, **hp)
    assert msg.startswith("model 'lstm' on adding needs about ") and "fewer blocks or cells per block" in msg


def test_out_of_range_sizes_are_refused_by_the_parameters():
    with pytest.raises(UserError, match="out of range"):
        models.make("lstm", tasks.make("adding"), blocks=100_000, in_gate_bias=None)


def test_huge_conventional_nets_are_refused_before_their_masks(six_gib, no_heavy_setup):
    task = tasks.make("two-sequence")
    for name in ("rnn-bptt", "elman", "rtrl", "guess"):
        assert "of memory" in _refused(name, task, arch="layered", hidden=100_000)


def test_every_paper_preset_passes(monkeypatch):
    """Under this machine's limits and under those of a small one (1 GiB, 1e8 operations per step)."""
    for env in ({}, {MAX_MEMORY_ENV: str(GiB), MAX_FLOPS_ENV: "1e8"}):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for p, quick in itertools.product([p for p in PRESETS if p.implemented], (False, True)):
            task_params, model_params, _, _ = p.settings(quick)
            model = models.make(p.model, tasks.make(p.task, **task_params), **model_params)
            fp = model.footprint()
            assert isinstance(fp, Footprint) and 0 < fp.bytes < 64 * 2**20 and 0 < fp.flops_per_step < 10**7, p.id


def test_limits_come_from_the_environment(monkeypatch):
    task = tasks.make("adding", T=20)
    monkeypatch.setenv(MAX_MEMORY_ENV, "1000")
    assert "(limit 1000 B, set by LSTM97_MAX_MEMORY)" in _refused("lstm", task)
    monkeypatch.delenv(MAX_MEMORY_ENV)
    monkeypatch.setenv(MAX_FLOPS_ENV, "100")
    assert "(limit 1e+02, set by LSTM97_MAX_FLOPS_PER_STEP)" in _refused("lstm", task)
    for bad in ("lots", "-5", "0", "inf"):
        monkeypatch.setenv(MAX_FLOPS_ENV, bad)
        assert "must be a positive number" in _refused("lstm", task)
    monkeypatch.delenv(MAX_FLOPS_ENV)
    assert models.make("lstm", task).n_weights == 93


def test_the_default_memory_limit_is_a_quarter_of_the_machine(monkeypatch):
    import os

    monkeypatch.delenv(MAX_MEMORY_ENV, raising=False)
    limit, why = memory_limit()
    assert limit == int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.25)
    assert why.startswith("25% of this machine's memory")
    assert (format_bytes(1023), format_bytes(6 * GiB), format_bytes(3.2 * 2**40)) == ("1023 B", "6.0 GiB", "3.2 TiB")


ARCHS = [
    dict(arch="layered", hidden=3, recurrence="full"),
    dict(arch="layered", hidden=2, recurrence="self", skip=True),
    dict(arch="layered", hidden=2, recurrence="none"),
    dict(arch="layered", hidden=2, recurrence="none", outputs_see="previous", skip=True),
    dict(arch="layered", hidden=0),
    dict(arch="wz", hidden=3),
    dict(arch="wz", hidden=2, order="seq"),
    dict(arch="a2", hidden=4),
    dict(arch="a2", hidden=3, order="seq"),
    dict(arch="a2", hidden=0),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("hp", ARCHS, ids=lambda hp: "-".join(str(v) for v in hp.values()))
def test_rtrl_estimate_is_the_plan_it_builds(hp, bias):
    """The sensitivities counted from the hyperparameters alone are exactly those the plan lays out."""
    n_out = 1 if hp["arch"] == "a2" else 3
    model = RTRL.for_dims(4, n_out, bias=bias, **hp)
    rows, slots = model.sensitivity_shape()
    plan = model._plan
    assert sum(r for r, _, _ in rows) == plan["tracked"].size and slots == plan["slot_flat"].size
    assert sum(r * s for r, s, _ in rows) == model.sensitivities
    c = model.counts()
    assert (c["present"], c["dense"]) == (model.n_weights, model.layout.size)
    assert c["AR"] == model.masks["A"].sum() + model.masks["R"].sum()


@pytest.mark.parametrize(
    "name,task_name,tp,hp",
    [
        ("rtrl", "long-lag", {"p": 120}, {}),
        ("rtrl", "reber", {}, {"arch": "wz", "hidden": 12, "update": "sequence"}),
        ("rnn-bptt", "long-lag", {"p": 120}, {}),
        ("lstm", "long-lag", {"p": 120}, {"update": "sequence"}),
        ("lstm", "adding", {}, {"blocks": 60, "block_size": 4, "in_gate_bias": None}),
        ("guess", "two-sequence", {}, {"hidden": 300}),
    ],
)
def test_memory_estimate_covers_set_up_and_state(name, task_name, tp, hp):
    """What numpy and numba allocate to build the model, initialise and copy a state and train it stays within
    the estimate (with NUMBA_DISABLE_JIT=1 without the training: traced pure-Python kernels are too slow)."""
    task = tasks.make(task_name, **tp)
    batch = task.sample(np.random.default_rng(0), 2)
    train = not getattr(models.get(name), "is_search", False) and not numba.config.DISABLE_JIT
    small = models.make(name, tasks.make(task_name), **{k: v for k, v in hp.items() if k in ("arch", "update")})
    if train:  # compile or load the kernel first: numba's memory is not ours
        small.train_chunk(
            small.init_state(np.random.default_rng(1)), tasks.make(task_name).sample(np.random.default_rng(0), 1)
        )
    tracemalloc.start()
    try:
        model = models.make(name, task, **hp)
        state = model.init_state(np.random.default_rng(1))
        before = state.copy()
        if train:
            model.train_chunk(state, batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert before.w.nbytes > 0
    assert peak <= model.footprint().bytes + 4 * batch.inputs.nbytes + 2**16
