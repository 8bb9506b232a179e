"""The example plugin passes lstm97's public contract and runs end to end through lstm97's Python API."""

import numpy as np
import pytest
from lstm97_example.model import Reservoir
from lstm97_example.task import DelayedRecall

import lstm97
from lstm97 import models, tasks
from lstm97.checks import check_model, check_task
from lstm97.models.base import NONFINITE


@pytest.mark.parametrize("params", [{}, {"jitter": 0}, {"delay": 1, "symbols": 5, "noise": 0.5}])
def test_task_contract(params):
    check_task(DelayedRecall(**params))


@pytest.mark.parametrize("model", ["reservoir", "lstm"])
def test_model_contract(model):
    task = DelayedRecall(noise=0.2)
    check_model(models.make(model, task), task)


def test_registered_through_entry_points():
    assert tasks.get("delayed-recall") is DelayedRecall
    assert models.get("reservoir") is Reservoir
    assert tasks.registry.provenance("delayed-recall")[0] == "lstm97-example-plugin"


def test_targets_and_padding():
    batch = DelayedRecall(delay=3, jitter=2, symbols=3).sample(np.random.default_rng(0), 50)
    assert batch.inputs.shape[1:] == (7, 4) and batch.targets.shape[1:] == (7, 3)
    assert set(batch.lengths) == {5, 6, 7}
    last = batch.lengths - 1
    rows = np.arange(50)
    assert (batch.mask.sum(axis=1) == 1).all() and batch.mask[rows, last].all()
    np.testing.assert_array_equal(batch.targets[rows, last], batch.inputs[rows, 0, :3])  # the first symbol
    assert (batch.inputs[rows, last, 3] == 1).all()  # the cue


def test_paper_defaults_reach_the_model():
    model = models.make("reservoir", DelayedRecall(), lr=0.2)
    assert model.hp["units"] == 30 and model.hp["lr"] == 0.2


def test_a_non_finite_net_reports_its_status():
    task, model = DelayedRecall(), Reservoir(3, 2)
    state = model.init_state(np.random.default_rng(0))
    model.views(state.w)["W_out"][0, 0] = np.nan
    res = model.train_chunk(state, task.sample(np.random.default_rng(1), 4))
    assert res.status == NONFINITE and res.n_done == 0 and np.isnan(res.outputs).all()


def test_end_to_end(tmp_path):
    store = tmp_path / "runs.sqlite"
    df = lstm97.run("delayed-recall", model="reservoir", trials=2, max_sequences=5000, store=store, jobs=1)
    assert list(df["seed"]) == [0, 1] and set(df["status"]) <= {"success", "budget"}
    assert (df["status"] == "success").any()
    assert df["state"].iloc[0]["updates"] == df["sequences"].iloc[0]  # one target step per sequence
    other = tmp_path / "chunk7.sqlite"
    again = lstm97.run("delayed-recall", model="reservoir", trials=2, max_sequences=5000, store=other, jobs=1, chunk=7)
    cols = ["seed", "status", "sequences", "test_wrong", "test_mse"]
    assert again[cols].equals(df[cols])  # the chunk size never changes a result
    assert len(lstm97.load(store)) == 2
