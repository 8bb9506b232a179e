"""Lock-step lanes (``--lanes K``): every stored trial is the one ``--lanes 1`` stores, field for field, whatever
K; the LSTM's lane kernel gives each lane the bits of the scalar kernel; the sweep, the API and the CLI take the
option."""

import time

import numpy as np
import pytest
from click.testing import CliRunner

from lstm97 import api, models, tasks
from lstm97.cli import main
from lstm97.errors import UserError
from lstm97.models import _lstm_lane_kernels as lane_kernels
from lstm97.models.base import Model
from lstm97.models.lstm import LSTM
from lstm97.runners import TrialConfig, run_many, run_trial
from lstm97.runners.lanes import check_lanes, run_lanes
from lstm97.tasks.adding import Adding
from lstm97.tasks.base import Protocol
from lstm97.tasks.criteria import st3

#: Record fields that may differ between two runs of the same trial.
TIMING = {"wall_time", "created"}


def assert_same_record(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in set(a) - TIMING:
        x, y = a[key], b[key]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), key
        elif isinstance(x, float) and np.isnan(x):
            assert isinstance(y, float) and np.isnan(y), key
        else:
            assert x == y, (key, x, y)


def bits(a: np.ndarray) -> bytes:
    """The bytes of ``a``, NaNs made one NaN: which NaN an operation on NaNs gives depends on the order of its
    operands in the machine code (the records store weights so, :func:`lstm97.runners.trial._weights`)."""
    a = np.array(a, dtype=np.float64)
    a[np.isnan(a)] = np.nan
    return a.tobytes()


def lanes_records(cfg: TrialConfig, seeds: list[int], lanes: int, chunk: int = 100) -> dict[int, dict]:
    got: dict[int, dict] = {}

    def keep(pos: int, record: dict) -> None:
        assert seeds[pos] not in got
        got[seeds[pos]] = record

    assert run_lanes(cfg, seeds, lanes, keep, chunk) == len(seeds)
    return got


def kernel_steps() -> int:
    return sum(lane_kernels._steps.values())


@pytest.fixture
def quick_rule(monkeypatch):
    """ST3 with a short window and loose threshold: adding T=20 trials stop within a few thousand sequences."""

    def protocol(self):
        return Protocol(stop=st3(0.15, window=5), max_sequences=3000, n_test=50, description="test")

    monkeypatch.setattr(Adding, "protocol", protocol)


@pytest.fixture
def some_diverge(monkeypatch):
    """The trials whose first initial weight is positive start with a NaN output bias: they diverge at once."""
    init = LSTM.init_state

    def poisoned(self, rng):
        state = init(self, rng)
        if state.w[0] > 0:
            state.w[-1] = np.nan
        return state

    monkeypatch.setattr(LSTM, "init_state", poisoned)


# -- whole trials: lanes = 1 vs K --------------------------------------------------------------------------
PRESETS = [  # (task, task parameters, model hyperparameters, budget, test size)
    ("adding", {"T": 100}, {}, 400, 50),  # Exp 4 (lstm97 run adding -p T=100), dense inputs
    ("reber", {}, {"blocks": 3, "block_size": 2, "out_gate_bias": (-1.0, -2.0, -3.0), "lr": 0.5}, 600, None),  # 1-5
    ("long-lag-distractors", {"q": 5, "p": 5}, {}, 1000, 100),  # 2c (quick q, p): a fresh check at 1000
    ("temporal-order", {"marks": 2}, {}, 300, 50),  # 6a
]


@pytest.mark.parametrize("task,tp,hp,budget,n_test", PRESETS, ids=[p[0] for p in PRESETS])
def test_lanes_store_the_records_of_one_lane(task, tp, hp, budget, n_test):
    cfg = TrialConfig.resolve(task, tp, "lstm", hp, budget, n_test)
    seeds = [0, 1, 2, 3, 4]
    ref = {s: run_trial(cfg, s, 100) for s in seeds}
    before = kernel_steps()
    for lanes in (2, 3, 4):
        got = lanes_records(cfg, seeds, lanes)
        for s in seeds:
            assert_same_record(ref[s], got[s])
    assert kernel_steps() > before  # the SIMD lane kernel trained them, not the per-lane fallback


def test_early_stops_divergence_and_budgets_with_refilled_lanes(quick_rule, some_diverge):
    """Lanes that stop (success), diverge or use their whole budget at different times, each refilled with the
    next seed; the restore-and-retrain to the stopping sequence happens per lane."""
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {})
    seeds = list(range(7))
    ref = {s: run_trial(cfg, s, 64) for s in seeds}
    statuses = {r["status"] for r in ref.values()}
    assert {"success", "diverged"} <= statuses
    assert len({r["sequences"] for r in ref.values()}) > 2  # the lanes finish at different points
    for lanes in (2, 3, 4):
        got = lanes_records(cfg, seeds, lanes, chunk=64)
        for s in seeds:
            assert_same_record(ref[s], got[s])


def test_budget_trials_with_a_stopping_one(quick_rule):
    """A small budget: some trials stop early, the others use the whole budget."""
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=2000, n_test=30)
    seeds = [0, 1, 2, 3]
    ref = {s: run_trial(cfg, s, 128) for s in seeds}
    assert {r["status"] for r in ref.values()} == {"success", "budget"}
    got = lanes_records(cfg, seeds, 3, chunk=128)
    for s in seeds:
        assert_same_record(ref[s], got[s])


def test_a_lane_trial_is_charged_its_own_time_not_the_lanes_together():
    """A record's wall_time is the trial's share of the process's time: the K trials' wall_times add up to at
    most the time the K trials took together (each trial alone would report that whole time)."""
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=2000, n_test=50)
    seeds = list(range(8))
    t0 = time.perf_counter()
    got = lanes_records(cfg, seeds, 8)
    total = time.perf_counter() - t0
    walls = [got[s]["wall_time"] for s in seeds]
    assert all(w > 0 for w in walls) and sum(walls) <= total


def test_models_without_a_lane_kernel_train_their_lanes_one_after_another():
    cfg = TrialConfig.resolve("adding", {"T": 20}, "elman", {}, max_sequences=200, n_test=20)
    assert type(models.make("elman", tasks.make("adding", T=20))).train_lanes is Model.train_lanes
    seeds = [0, 1, 2]
    ref = {s: run_trial(cfg, s) for s in seeds}
    got = lanes_records(cfg, seeds, 2)
    for s in seeds:
        assert_same_record(ref[s], got[s])


def test_lstm_configurations_outside_the_kernel_fall_back():
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {"forget_gate": True}, max_sequences=200, n_test=20)
    model = models.make("lstm", tasks.make("adding", T=20), forget_gate=True)
    assert lane_kernels.lane_kernel_reason(model) == "forget_gate=True"
    seeds = [0, 1, 2]
    ref = {s: run_trial(cfg, s) for s in seeds}
    got = lanes_records(cfg, seeds, 3)
    for s in seeds:
        assert_same_record(ref[s], got[s])


# -- the lane kernel against the scalar kernel -----------------------------------------------------------------
KERNEL_CASES = [  # (task, task parameters, model hyperparameters)
    ("adding", {"T": 20}, {}),
    ("adding", {"T": 20}, {"g": "g1", "h": "id", "bias": "gates", "reset": 0.5, "error_factor": 2}),
    ("adding-modern", {"T": 20}, {"output": "linear"}),
    ("reber", {}, {"blocks": 4, "block_size": 1, "bias": "gates", "out_gate_bias": (-1.0, -2.0, -3.0, -4.0)}),
    ("long-lag-distractors", {"q": 5, "p": 5}, {}),
    ("temporal-order", {"marks": 2}, {}),
]


@pytest.mark.parametrize("task_name,tp,hp", KERNEL_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(KERNEL_CASES)])
def test_lane_kernel_gives_the_scalar_kernels_bits(task_name, tp, hp):
    """Random nets, lanes with different numbers and lengths of sequences (masked), one lane diverging in the
    middle of its chunk: weights, outputs, status and count as train_chunk gives them, lane by lane."""
    task = tasks.make(task_name, **tp)
    model = models.make("lstm", task, **hp)
    assert lane_kernels.lane_kernel_reason(model) is None
    rng = np.random.default_rng(7)
    K = 5
    states = [model.init_state(rng) for _ in range(K)]
    for st in states:
        st.w[:] = rng.uniform(-1.0, 1.0, st.w.size)
    batches = [task.sample(rng, int(n)) for n in (1, 6, 3, 9, 4)]
    bad = batches[3]
    if "active" in bad.info:  # lane 3 goes non-finite in its sequence 2
        bad.targets[2, int(bad.lengths[2]) - 1] = np.nan
        bad.mask[2, int(bad.lengths[2]) - 1] = True
    else:
        bad.inputs[2, 1, 0] = np.nan
    ref = []
    for st, b in zip(states, batches, strict=True):
        mine = st.copy()
        ref.append((mine, model.train_chunk(mine, b)))
    lanes = [st.copy() for st in states]
    got = model.train_lanes(lanes, batches)
    assert [r.status for _, r in ref][3] == 1 and [r.n_done for _, r in ref][3] == 2
    for (mine, r), st, g in zip(ref, lanes, got, strict=True):
        assert (g.status, g.n_done) == (r.status, r.n_done)
        assert g.outputs.shape == r.outputs.shape and bits(g.outputs) == bits(r.outputs)
        assert bits(st.w) == bits(mine.w)
        if r.status == 0:  # no NaN anywhere: the very bytes
            assert g.outputs.tobytes() == r.outputs.tobytes() and st.w.tobytes() == mine.w.tobytes()


def test_lane_kernel_specialised_equals_generic(monkeypatch):
    task = tasks.make("temporal-order", marks=2)
    model = models.make("lstm", task)
    rng = np.random.default_rng(3)
    states = [model.init_state(rng) for _ in range(3)]
    batches = [task.sample(rng, n) for n in (2, 3, 1)]
    results = {}
    for after in (-1, 0):  # never / always specialise
        monkeypatch.setattr(lane_kernels, "SPECIALISE_AFTER", after)
        lanes = [st.copy() for st in states]
        out = model.train_lanes(lanes, batches)
        results[after] = ([st.w.tobytes() for st in lanes], [r.outputs.tobytes() for r in out])
    assert results[-1] == results[0]


# -- sweep, API, CLI -------------------------------------------------------------------------------------------
def test_run_many_with_lanes_equals_one_lane_in_process_and_in_a_pool():
    cfgs = [
        TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=300, n_test=20),
        TrialConfig.resolve("temporal-order", {"marks": 2}, "lstm", {}, max_sequences=100, n_test=20),
    ]
    work = [(cfgs[0], [0, 1, 2, 3, 4]), (cfgs[1], [5, 6, 7])]

    def collect(**kw):
        out = {}
        run_many(work, lambda r: out.__setitem__((r["config_key"], r["seed"]), r), chunk=64, **kw)
        return out

    ref = collect(jobs=1)
    for kw in ({"jobs": 1, "lanes": 3}, {"jobs": 2, "lanes": 2}):
        got = collect(**kw)
        assert set(got) == set(ref)
        for key in ref:
            assert_same_record(ref[key], got[key])


def test_lanes_that_no_queue_fills_are_not_used(monkeypatch):
    """With as many workers as trials every queue holds one seed: the run takes the one-trial path (no lane
    kernel to compile or load); with more seeds per queue, as many lanes as the largest queue has seeds."""
    from lstm97.runners import sweep

    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=100, n_test=10)
    seen = []
    monkeypatch.setattr(sweep, "_run_lanes", lambda *a: seen.append(a[-1]) or 0)
    run_many([(cfg, [0])], lambda r: None, jobs=1, lanes=16)
    assert seen == []
    run_many([(cfg, [0, 1, 2])], lambda r: None, jobs=1, lanes=16)
    assert seen == [3]
    assert sweep.lanes_in_use([(cfg, [0, 1])], 2, 16) == 1 and sweep.lanes_in_use([(cfg, range(9))], 2, 16) == 5
    assert sweep.lanes_in_use([(cfg, range(9))], 2, 16, local=False) == 16  # a cluster's queues: lanes seeds each


def test_no_more_lanes_than_fit_in_one_trials_memory(monkeypatch):
    """K lanes hold K trials' arrays at once: K is cut to what fits in the memory one trial may use; the
    records stay those of one trial at a time."""
    from lstm97.runners import lanes as lanes_module

    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=300, n_test=20)
    bytes_one = models.make("lstm", tasks.make("adding", T=20)).footprint().bytes
    monkeypatch.setattr(lanes_module, "memory_limit", lambda: (int(2.5 * bytes_one), "test"))
    widths = []
    train = lanes_module._train
    monkeypatch.setattr(lanes_module, "_train", lambda running: widths.append(len(running)) or train(running))
    got = lanes_records(cfg, [0, 1, 2, 3, 4], 8)
    assert max(widths) == 2
    for s in range(5):
        assert_same_record(run_trial(cfg, s), got[s])


def test_bad_lanes_values_are_one_user_error():
    assert check_lanes(4) == 4 and check_lanes(" 8 ") == 8
    for bad in (0, -1, 1025, "x", "2.5", 2.0, True, None):
        with pytest.raises(UserError, match="lanes=.* is not allowed: give a whole number"):
            check_lanes(bad)
    with pytest.raises(UserError, match="lanes=0"):
        api.run("adding", {"T": 20}, trials=1, max_sequences=10, store="unused.sqlite", lanes=0)


def test_cli_lanes_end_to_end(tmp_path):
    store = tmp_path / "runs.sqlite"
    args = ["run", "adding", "-p", "T=20", "--max-sequences", "200", "--trials", "3", "--jobs", "1"]
    runner = CliRunner()
    one = runner.invoke(main, [*args, "--store", str(tmp_path / "one.sqlite")])
    assert one.exit_code == 0, one.output
    res = runner.invoke(main, [*args, "--store", str(store), "--lanes", "16"])
    assert res.exit_code == 0, res.output
    assert "up to 3 trials side by side per worker (--lanes)" in res.output  # what the runner uses: 3 seeds
    a, b = api.load(tmp_path / "one.sqlite"), api.load(store)
    cols = [c for c in a.columns if c not in TIMING]
    assert a[cols].sort_values("seed").reset_index(drop=True).equals(b[cols].sort_values("seed").reset_index(drop=True))
    bad = runner.invoke(main, [*args, "--store", str(store), "--lanes", "zero"])
    assert bad.exit_code == 2 and "lanes=zero is not allowed" in bad.output and "Traceback" not in bad.output
    assert "--lanes K" in runner.invoke(main, ["run", "--help"]).output
    for cmd in ("reproduce", "ablate"):
        assert "--lanes" in runner.invoke(main, [cmd, "--help"]).output


def test_dask_executor_with_lanes_equals_one_lane():
    distributed = pytest.importorskip("distributed")
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=200, n_test=20)
    seeds = [0, 1, 2, 3, 4]
    ref = {s: run_trial(cfg, s) for s in seeds}
    got: dict[int, dict] = {}
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2) as client:
        n = run_many([(cfg, seeds)], lambda r: got.__setitem__(r["seed"], r), executor=client.get_executor(), lanes=2)
    assert n == len(seeds) and set(got) == set(seeds)
    for s in seeds:
        assert_same_record(ref[s], got[s])
