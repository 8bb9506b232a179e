"""The training loop: exact, chunk-invariant stopping counts; seeds as streams; parallel = serial."""

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.runners import TrialConfig, run_many, run_sweep, run_trial
from lstm97.seeding import streams
from lstm97.tasks.adding import Adding
from lstm97.tasks.base import Protocol
from lstm97.tasks.criteria import st3


@pytest.fixture
def quick_rule(monkeypatch):
    """ST3 with a short window and loose threshold, so that a trial stops within a few thousand sequences."""

    def protocol(self):
        return Protocol(stop=st3(0.05, window=20), max_sequences=100_000, n_test=300, description="test")

    monkeypatch.setattr(Adding, "protocol", protocol)


def _cfg(**kw):
    return TrialConfig.resolve("adding", {"T": 20}, "lstm", kw)


def test_stop_count_and_weights_do_not_depend_on_chunk(quick_rule):
    cfg = _cfg()
    recs = [run_trial(cfg, seed=3, chunk=c) for c in (7, 64, 500)]
    assert recs[0]["status"] == "success"
    for r in recs[1:]:
        assert r["sequences"] == recs[0]["sequences"]
        assert r["test_mse"] == recs[0]["test_mse"]  # bit-identical tested weights
        assert r["test_wrong"] == recs[0]["test_wrong"]
        assert r["curve"] == recs[0]["curve"]


def test_stop_is_the_first_sequence_where_the_rule_holds(quick_rule):
    """Replay the trial sequence by sequence and check the rule on the recorded count."""
    cfg = _cfg()
    rec = run_trial(cfg, seed=3, chunk=100)
    task = tasks.make("adding", T=20)
    model = models.make("lstm", task)
    rng = streams(3)
    state = model.init_state(rng.weights)
    batch = task.sample(rng.train, rec["sequences"])
    res = model.train_chunk(state, batch)
    ok = task.correct(batch, res.outputs)
    err = task.error(batch, res.outputs)
    n = rec["sequences"]
    assert ok[n - 20 :].all() and err[n - 20 :].mean() < 0.05
    for j in range(19, n - 1):  # never before
        assert not (ok[j - 19 : j + 1].all() and err[j - 19 : j + 1].mean() < 0.05)


def test_budget_exhausted_is_recorded():
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=300, n_test=50)
    rec = run_trial(cfg, seed=0, chunk=128)
    assert rec["status"] == "budget" and not rec["success"] and rec["sequences"] == 300
    assert 0 <= rec["test_wrong"] <= 50 and np.isfinite(rec["test_mse"])
    assert rec["n_weights"] == 93 and rec["model_params"]["in_gate_bias"] == (-3.0, -6.0)


def test_divergence_is_a_status_not_a_crash(monkeypatch):
    from lstm97.models.lstm import LSTM

    init = LSTM.init_state

    def poisoned(self, rng):
        state = init(self, rng)
        state.w[-1] = np.nan  # the output bias
        return state

    monkeypatch.setattr(LSTM, "init_state", poisoned)
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=2000, n_test=10)
    rec = run_trial(cfg, seed=0)
    assert rec["status"] == "diverged" and not rec["success"] and rec["sequences"] == 1
    assert "non-finite" in rec["message"] and rec["test_wrong"] == -1


def test_same_seed_same_data_for_any_model_settings(monkeypatch):
    """The data stream does not depend on the model: trials of different models and settings with one seed
    train on the same sequences (those of the seed's training stream); another seed trains on others."""
    from lstm97.models.lstm import LSTM
    from lstm97.models.rnn_bptt import RNNBPTT
    from lstm97.models.rtrl import RTRL

    trained = []  # the batches handed to train_chunk, by any of the models
    for cls in (LSTM, RNNBPTT, RTRL):

        def record(self, state, batch, _train=cls.train_chunk):
            trained.append(batch)
            return _train(self, state, batch)

        monkeypatch.setattr(cls, "train_chunk", record)

    def training_inputs(model, model_params, seed):
        trained.clear()
        cfg = TrialConfig.resolve("adding", {"T": 20}, model, model_params, max_sequences=300, n_test=10)
        assert run_trial(cfg, seed=seed, chunk=128)["status"] == "budget"
        return tasks.SequenceBatch.concat(trained).inputs

    runs = [
        training_inputs("lstm", {}, 11),
        training_inputs("lstm", {"lr": 0.1, "block_size": 3, "init": 0.3}, 11),
        training_inputs("rnn-bptt", {"hidden": 5}, 11),
        training_inputs("rtrl", {"arch": "wz"}, 11),
    ]
    expected = tasks.make("adding", T=20).sample(streams(11).train, 300).inputs
    for inputs in runs:
        np.testing.assert_array_equal(inputs, expected)
    assert not np.array_equal(training_inputs("lstm", {}, 12), expected)
    assert not np.array_equal(streams(11).weights.random(3), streams(11).train.random(3))


def test_one_pool_for_several_configurations_equals_one_sweep_each():
    a = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=300, n_test=40)
    b = TrialConfig.resolve("adding", {"T": 30}, "lstm", {"lr": 0.1}, max_sequences=200, n_test=40)
    each, pooled = [], []
    for cfg, seeds in ((a, [0, 1]), (b, [2])):
        run_sweep(cfg, seeds, each.append, jobs=1)
    assert run_many([(a, [0, 1]), (b, [2])], pooled.append, jobs=2) == 3
    key = lambda r: (r["config_key"], r["seed"])
    for x, y in zip(sorted(each, key=key), sorted(pooled, key=key), strict=True):
        for field in ("config_key", "seed", "sequences", "status", "test_wrong", "test_mse", "curve"):
            assert x[field] == y[field]


def test_parallel_equals_serial():
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=400, n_test=40)
    serial, parallel = [], []
    run_sweep(cfg, [0, 1, 2], serial.append, jobs=1)
    run_sweep(cfg, [0, 1, 2], parallel.append, jobs=2)
    key = lambda r: r["seed"]
    for a, b in zip(sorted(serial, key=key), sorted(parallel, key=key), strict=True):
        for field in ("sequences", "status", "test_wrong", "test_mse", "curve"):
            assert a[field] == b[field]


def test_config_key_identifies_resolved_settings():
    assert _cfg().key() == _cfg(lr=0.5).key()  # the paper default spelled out is the same configuration
    assert _cfg().key() != _cfg(lr=0.1).key()


@pytest.fixture
def eval_protocol(monkeypatch):
    """A milestone window rule, then an evaluation-set rule, with a fixed training set."""
    from lstm97.tasks.criteria import EvalRule, WindowRule

    def protocol(self):
        return Protocol(
            stop=EvalRule(every=50, max_wrong=40, max_mean_abs=0.2, sets=("train", "eval"), name="eval"),
            milestones=(WindowRule(10, max_wrong=9, name="w10"),),
            max_sequences=20_000,
            n_test=100,
            description="test",
            n_eval=40,
            n_train=30,
            test_on_eval=True,
        )

    monkeypatch.setattr(Adding, "protocol", protocol)


def test_eval_rule_milestones_and_fixed_sets_are_chunk_invariant(eval_protocol):
    cfg = _cfg()
    recs = [run_trial(cfg, seed=2, chunk=c) for c in (7, 64, 300)]
    first = recs[0]
    assert first["status"] == "success" and first["sequences"] % 50 == 0
    assert set(first["milestones"]) == {"w10", "eval"} and first["milestones"]["eval"] == first["sequences"]
    assert first["milestones"]["w10"] <= first["sequences"]
    assert first["n_test"] == 40 and first["test_wrong"] <= 40  # tested on the evaluation set itself
    for r in recs[1:]:
        for field in ("sequences", "milestones", "test_wrong", "test_mse", "curve"):
            assert r[field] == first[field]


def test_training_exemplars_come_from_the_fixed_set(eval_protocol, monkeypatch):
    """With n_train ("t1"), every sequence the trial trains on is one of the trial's fixed training set,
    drawn at random with replacement; none is a fresh sequence."""
    from lstm97.models.lstm import LSTM

    trained = []
    train_chunk = LSTM.train_chunk

    def record(self, state, batch):
        trained.append(batch)
        return train_chunk(self, state, batch)

    monkeypatch.setattr(LSTM, "train_chunk", record)
    rec = run_trial(_cfg(), seed=2, chunk=64)
    task = tasks.make("adding", T=20)
    rng = streams(2)
    train, evaluation = task.fixed_sets(rng.train, rng.test)  # as the runner draws them
    assert len(train) == 30 and len(evaluation) == 40
    fixed = [train.sequence(j)["inputs"].tobytes() for j in range(len(train))]
    used = [fixed.index(b.sequence(i)["inputs"].tobytes()) for b in trained for i in range(len(b))]  # raises if not
    assert len(used) == rec["sequences"] >= 50  # every trained sequence was found in the fixed set
    assert len(set(used)) > 1 and len(set(used)) < len(used)  # random picks, with repetitions


def test_dask_executor_equals_serial():
    distributed = pytest.importorskip("distributed")
    cfg = TrialConfig.resolve("adding", {"T": 20}, "lstm", {}, max_sequences=300, n_test=20)
    serial, remote = [], []
    run_sweep(cfg, [0, 1], serial.append, jobs=1)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2) as client:
        run_sweep(cfg, [0, 1], remote.append, executor=client.get_executor())
    key = lambda r: r["seed"]
    for a, b in zip(sorted(serial, key=key), sorted(remote, key=key), strict=True):
        assert (a["sequences"], a["test_mse"], a["curve"]) == (b["sequences"], b["test_mse"], b["curve"])


def test_fresh_evaluation_rule_exp2a_small():
    """Exp 2a with p=4: success is the first check at which 10,000 fresh sequences are all correct."""
    cfg = TrialConfig.resolve("long-lag", {"p": 4, "check_every": 50}, "lstm", {}, max_sequences=30_000, n_test=500)
    recs = [run_trial(cfg, seed=1, chunk=c) for c in (16, 100)]
    assert recs[0]["status"] == "success" and recs[0]["sequences"] % 50 == 0
    assert recs[0]["test_wrong"] == 0
    assert (recs[1]["sequences"], recs[1]["curve"]) == (recs[0]["sequences"], recs[0]["curve"])


def test_fresh_check_counts_wrong_sequences():
    from lstm97.runners.trial import _fresh_check
    from lstm97.tasks.criteria import EvalRule

    task = tasks.make("long-lag", p=4)
    model = models.make("lstm", task)
    state = model.init_state(np.random.default_rng(0))  # untrained: wrong on the last step
    assert not _fresh_check(model, state, task, EvalRule(every=1, fresh=100), np.random.default_rng(1), 64)
    assert _fresh_check(model, state, task, EvalRule(every=1, fresh=100, max_wrong=100), np.random.default_rng(1), 64)


def test_test_abs_is_the_mean_absolute_error_against_the_noise_free_target():
    """3c (Table 6 'av. difference to mean'): the record's test_abs is mean |output - clean target| on the
    test sequences, recomputed here from the stored weights and the test stream."""
    params = {"T": 10, "N": 1, "noise": "target"}
    cfg = TrialConfig.resolve("two-sequence", params, "lstm", {}, max_sequences=3000, n_test=200)
    rec = run_trial(cfg, seed=4)
    task = tasks.make("two-sequence", **params)
    model = models.make("lstm", task)
    rng = streams(4)
    task.fixed_sets(rng.train, rng.test)  # the runner draws its fixed sets first
    test = task.sample(rng.test, 200)
    state = model.init_state(np.random.default_rng(0))
    state.w[:] = rec["weights"]
    out = model.predict(state, test)
    clean = np.abs(out[np.arange(len(test)), test.lengths - 1, 0] - test.info["clean_targets"]).mean()
    noisy = np.abs(
        out[np.arange(len(test)), test.lengths - 1, 0] - test.targets[np.arange(len(test)), test.lengths - 1, 0]
    ).mean()
    assert rec["test_abs"] == pytest.approx(clean, rel=1e-12) and abs(clean - noisy) > 1e-3
    assert rec["test_wrong"] == int((~task.correct(test, out)).sum())


@pytest.mark.parametrize("preset_id, budget", [("1-5", 3_000), ("3a-1", 3_000), ("3b-1", 2_000)])
def test_early_exit_checks_give_the_trials_of_whole_set_checks(monkeypatch, preset_id, budget):
    """The fixed-set checks stop predicting at the first excess of wrong sequences; the trial is the same as
    with every set evaluated whole (benchmarks/bench_checks.py measures the time saved)."""
    from lstm97 import api
    from lstm97.paper import presets
    from lstm97.runners import trial

    cfg = api.preset_config(presets.get(preset_id), max_sequences=budget)
    early = [run_trial(cfg, s) for s in (0, 1)]

    def whole(model, state, task, rule, batch, rows):
        w, _, mean_abs = trial._evaluate(model, state, task, batch)
        return rule.holds(w, mean_abs)

    monkeypatch.setattr(trial, "_fixed_check", whole)
    for a, s in zip(early, (0, 1), strict=True):
        b = run_trial(cfg, s)
        for key in ("status", "sequences", "milestones", "test_wrong", "test_mse", "curve"):
            assert a[key] == b[key], key
        np.testing.assert_array_equal(a["weights"], b["weights"])


def test_fixed_check_agrees_with_the_whole_set_on_many_nets():
    from lstm97.runners.trial import _evaluate, _fixed_check
    from lstm97.tasks.criteria import EvalRule

    task = tasks.make("two-sequence", T=100, N=3, noise="none")
    model = models.make("lstm", task)
    batch = task.sample(np.random.default_rng(5), 200)
    for seed in range(6):
        state = model.init_state(np.random.default_rng(seed))
        model.train_chunk(state, task.sample(np.random.default_rng(100 + seed), 300 * seed))
        w, _, mean_abs = _evaluate(model, state, task, batch)
        for max_wrong in (0, 3, w, w + 1, 200):
            rule = EvalRule(every=1, max_wrong=max_wrong, max_mean_abs=0.5)
            assert _fixed_check(model, state, task, rule, batch, 64) == rule.holds(w, mean_abs)


def test_the_learning_curve_ends_at_the_stopping_point_with_its_last_partial_block():
    """The curve's rows are means over blocks of 1,000 training sequences, then over the sequences after the
    last full block: the last row is at the trial's end (here a success at a check, not a multiple of 1,000),
    whatever the chunk size."""
    cfg = TrialConfig.resolve("long-lag", {"p": 4, "check_every": 50}, "lstm", {}, max_sequences=30_000, n_test=200)
    recs = [run_trial(cfg, seed=1, chunk=c) for c in (16, 100)]
    rec = recs[0]
    assert rec["status"] == "success" and rec["sequences"] % 1000 != 0
    seqs = [row[0] for row in rec["curve"]]
    assert seqs[:-1] == list(range(1000, 1000 * len(seqs), 1000)) and seqs[-1] == rec["sequences"]
    assert recs[1]["curve"] == rec["curve"]
