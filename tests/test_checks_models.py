"""The model contract (lstm97.checks.check_model) catches each typical mistake with a message that names the fix.

One deliberately broken model class per mistake, each a small change of a correct model (``Linear``, a
logistic readout of the current input trained by the delta rule, in plain numpy), checked on the adding
problem; models that must run a trial through the runner are registered in-process for the test only.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lstm97 import models, tasks
from lstm97.checks import ContractError, check_model, model_checks, run_checks
from lstm97.models import ChunkResult, Layout, Model, ModelSpec, TrainState
from lstm97.models.base import NONFINITE, OK
from lstm97.params import Param
from lstm97.tasks import TaskSpec

SPEC = ModelSpec(
    name="linear-test",
    title="Logistic readout of the current input (a test model)",
    paper="not in the paper (a test of the contract checks)",
    params=(
        Param("lr", "float", 0.5, "learning rate", low=0.0, high=10.0),
        Param("init", "float", 0.1, "initial weights uniform in [-init, init]", low=0.0, high=10.0),
    ),
    version=1,
)


class Linear(Model):
    """A correct model: y(t) = logistic(W x(t) + b), trained online at every target step (the outputs it
    reports while training are those of the weights at the start of each sequence)."""

    spec = SPEC

    @property
    def layout(self) -> Layout:
        return Layout({"W": (self.n_out, self.n_in), "b": (self.n_out,)})

    def init_state(self, rng: np.random.Generator) -> TrainState:
        r = self.hp["init"]
        return TrainState(rng.uniform(-r, r, self.layout.size))

    def weights(self, state: TrainState) -> np.ndarray:
        return state.w

    def rate(self, k: int) -> float:
        """The learning rate of the k-th sequence of a call."""
        return self.hp["lr"]

    def run(self, state: TrainState, batch, learn: bool) -> ChunkResult:
        self.check_batch(batch)
        v = self.views(self.weights(state))
        W, b = v["W"], v["b"]
        out = np.zeros(batch.targets.shape)
        for i in range(len(batch)):  # the outputs with the weights at the sequence's start, then the updates
            k = int(batch.lengths[i])
            out[i, :k] = 1.0 / (1.0 + np.exp(-(batch.inputs[i, :k] @ W.T + b)))
            for t in np.nonzero(batch.mask[i, :k])[0] if learn else ():
                x = batch.inputs[i, t]
                y = 1.0 / (1.0 + np.exp(-(W @ x + b)))
                d = self.rate(i) * (batch.targets[i, t] - y) * y * (1.0 - y)
                W += np.outer(d, x)
                b += d
        return ChunkResult(OK, len(batch), out)

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        return self.run(state, batch, True)

    def predict(self, state: TrainState, batch) -> np.ndarray:
        return self.run(state, batch, False).outputs


# -- spec and layout ------------------------------------------------------------------------------------------
class SpecIsATaskSpec(Linear):
    spec = TaskSpec(SPEC.name, SPEC.title, SPEC.paper, SPEC.params)


class VersionZero(Linear):
    from dataclasses import replace

    spec = replace(SPEC, version=0)


class NoSuperInit(Linear):
    def __init__(self, n_in, n_out, **hp):
        self.n_in, self.n_out = n_in, n_out
        self.hp = {"lr": 0.5}


class EmptyLayout(Linear):
    @property
    def layout(self):
        return Layout({})


class LayoutIsADict(Linear):
    @property
    def layout(self):
        return {"W": (self.n_out, self.n_in)}


class TooManyWeights(Linear):
    @property
    def n_weights(self):
        return self.layout.size + 1


class FreeIsInts(Linear):
    def free(self):
        return np.ones(self.layout.size, dtype=np.int64)


# -- the initial state ----------------------------------------------------------------------------------------
class InitReturnsAnArray(Linear):
    def init_state(self, rng):
        return super().init_state(rng).w


class InitFloat32(Linear):
    def init_state(self, rng):
        return TrainState(super().init_state(rng).w.astype(np.float32))


class InitStrided(Linear):
    def init_state(self, rng):
        return TrainState(np.repeat(super().init_state(rng).w, 2)[::2])


class InitGlobalRNG(Linear):
    def init_state(self, rng):
        return TrainState(np.random.uniform(-0.1, 0.1, self.layout.size))


_counter = itertools.count()


class InitNotDeterministic(Linear):
    def init_state(self, rng):
        state = super().init_state(rng)
        state.w[0] = next(_counter) / 1000
        return state


# -- predict --------------------------------------------------------------------------------------------------
class PredictWithoutFeatureAxis(Linear):
    def predict(self, state, batch):
        return np.ascontiguousarray(super().predict(state, batch)[:, :, 0])


class PredictChangesWeights(Linear):
    def predict(self, state, batch):
        out = super().predict(state, batch)
        state.w *= 0.5
        return out


class PredictChangesExtra(Linear):
    def init_state(self, rng):
        return TrainState(super().init_state(rng).w, {"seen": 0})

    def predict(self, state, batch):
        state.extra["seen"] += len(batch)
        return super().predict(state, batch)


class PredictRaises(Linear):
    def predict(self, state, batch):
        return super().predict(state, batch.inputs)


class PredictChangesInputs(Linear):
    def predict(self, state, batch):
        batch.inputs[:, 0] = 0.0  # "normalises" the first step in place
        return super().predict(state, batch)


# -- train_chunk ----------------------------------------------------------------------------------------------
class TrainReturnsATuple(Linear):
    def train_chunk(self, state, batch):
        res = super().train_chunk(state, batch)
        return res.status, res.n_done, res.outputs


class TrainReportsNonFinite(Linear):
    def train_chunk(self, state, batch):
        res = super().train_chunk(state, batch)
        return ChunkResult(NONFINITE, 0, res.outputs)


class TrainOutputsFloat32(Linear):
    def train_chunk(self, state, batch):
        res = super().train_chunk(state, batch)
        return ChunkResult(OK, res.n_done, res.outputs.astype(np.float32))


class TrainChangesTargets(Linear):
    def train_chunk(self, state, batch):
        batch.targets[batch.mask] -= 0.5  # centres the targets in place
        return super().train_chunk(state, batch)


class WeightsOnSelf(Linear):
    """Keeps its weights on the model: every state shares them."""

    def init_state(self, rng):
        state = super().init_state(rng)
        self.w = state.w.copy()
        return state

    def weights(self, state):
        return self.w


class MomentumOnSelf(Linear):
    """Keeps a running average of its updates on the model, carried from one call to the next."""

    def train_chunk(self, state, batch):
        before = state.w.copy()
        res = super().train_chunk(state, batch)
        self.velocity = 0.9 * getattr(self, "velocity", 0.0) + (state.w - before)
        state.w += 0.5 * self.velocity
        return res


class ChunkVariant(Linear):
    """Anneals the learning rate within a call, starting again at every call."""

    def rate(self, k):
        return self.hp["lr"] / (1 + k)


class ObserveCountsChunks(Linear):
    """Counts the chunks it saw in its state: a trial's record then depends on the chunk size."""

    def init_state(self, rng):
        return TrainState(super().init_state(rng).w, {"chunks": 0})

    def observe(self, state, errors):
        state.extra["chunks"] += 1


BROKEN = [
    (SpecIsATaskSpec, r"spec is a TaskSpec, not a lstm97\.models\.ModelSpec"),
    (VersionZero, r"spec\.version must be an int >= 1"),
    (NoSuperInit, r"hp lacks the declared init \(call super\(\)\.__init__\(n_in, n_out, \*\*hp\)"),
    (EmptyLayout, r"layout\.size must be a positive int"),
    (LayoutIsADict, r"layout must be a lstm97\.models\.Layout"),
    (TooManyWeights, r"n_weights must be an int in \[0, layout\.size = 3\]"),
    (FreeIsInts, r"free\(\) must be a bool array of shape \(layout\.size,\)"),
    (InitReturnsAnArray, r"init_state must return a lstm97\.models\.TrainState"),
    (InitFloat32, r"the weights must be one flat float64 vector"),
    (InitStrided, r"the weight vector must be C-contiguous"),
    (InitGlobalRNG, r"init_state must use only the Generator it is given, not np\.random's global state"),
    (InitNotDeterministic, r"the same seed must give the same state"),
    (PredictWithoutFeatureAxis, r"predict must return float64 outputs \[n, L, n_out\] = \(6, 22, 1\)"),
    (PredictChangesWeights, r"predict changed the weights"),
    (PredictChangesExtra, r"predict changed state\.extra"),
    (PredictRaises, r"predict\(state, batch\) raised AttributeError"),
    (PredictChangesInputs, r"predict changed the batch's inputs in place"),
    (TrainReturnsATuple, r"train_chunk must return a lstm97\.models\.ChunkResult"),
    (TrainReportsNonFinite, r"returned status 1 and n_done=0: it must return status OK"),
    (TrainOutputsFloat32, r"train_chunk's outputs must be float64 \[n, L, n_out\]"),
    (TrainChangesTargets, r"train_chunk changed the batch's targets in place"),
    (WeightsOnSelf, r"learns into self: .* Keep everything learned in the TrainState"),
    (MomentumOnSelf, r"depends on more than the state and the batch"),
    (ChunkVariant, r"not chunk-invariant: one chunk of 6 sequences must give the same state, bit for bit, as two"),
]


@pytest.fixture
def adding():
    return tasks.make("adding", T=20)


@pytest.fixture
def register(monkeypatch):
    """``register(registry, name, cls)`` for this test only: the registry's entries are restored afterwards."""

    def add(registry, name, cls):
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        registry.register(name, cls)

    return add


def test_a_correct_model_passes(adding, register):
    outcomes = run_checks(model_checks(Linear.for_task(adding), adding))
    assert {o.check.name: o.status for o in outcomes}["trial"] == "skip"  # not registered: no trial
    assert all(o.status == "ok" for o in outcomes if o.check.name != "trial"), [o.line for o in outcomes]
    register(models.registry, "linear-test", Linear)
    outcomes = run_checks(model_checks(models.make("linear-test", adding), adding))
    assert [o.line for o in outcomes if o.status != "ok"] == []
    assert [o.check.id for o in outcomes][-1] == "linear-test@adding/trial"
    assert "linear-test" not in models.names() or models.get("linear-test") is Linear


def test_the_registration_is_undone():
    assert "linear-test" not in models.names()


@pytest.mark.parametrize("cls,message", BROKEN, ids=[c.__name__ for c, _ in BROKEN])
def test_a_broken_model_is_caught(cls, message, adding):
    with pytest.raises(ContractError, match=message) as info:
        check_model(cls.for_task(adding), adding)
    assert "\n" not in str(info.value)


def test_a_model_built_for_other_dimensions(adding):
    with pytest.raises(ContractError, match=r"n_in is 3 but the task's is 2: build the model for the task"):
        check_model(Linear(3, 1), adding)


def test_a_trial_whose_record_depends_on_the_chunk_size(adding, register):
    """Only the end-to-end trial sees what observe() does: the runner calls it once per chunk."""
    register(models.registry, "observe-test", ObserveCountsChunks)
    check_model(ObserveCountsChunks.for_task(adding), adding, trial=False)
    with pytest.raises(ContractError, match=r"adding/trial: .* chunk=1 and chunk=2: state differ"):
        check_model(ObserveCountsChunks.for_task(adding), adding, model_name="observe-test")


def test_a_trial_of_a_registered_task_and_model(register):
    """A plugin task and model registered in-process run through the runner (lstm97.runners.run_trial)."""
    from test_checks_tasks import Tiny

    register(tasks.registry, "tiny", Tiny)
    register(models.registry, "linear-test", Linear)
    task = tasks.make("tiny")
    outcomes = run_checks(model_checks(models.make("linear-test", task), task))
    assert [o.line for o in outcomes if o.status != "ok"] == []
    assert "tiny" in [o.check.subject.split("@")[1] for o in outcomes]


def test_learning_into_self_is_its_own_check(adding):
    outcomes = {o.check.name: o.status for o in run_checks(model_checks(WeightsOnSelf.for_task(adding), adding))}
    assert outcomes["no-learning-into-self"] == "FAIL"
    assert outcomes["train-chunk"] == outcomes["predict"] == outcomes["init-state"] == "ok"


def test_search_models_get_the_search_checks():
    task = tasks.make("parity", min_length=5, max_length=10)
    names = [c.name for c in model_checks(models.make("guess", task), task)]
    assert "search" in names and "train-chunk" not in names and names[-1] == "trial"
    check_model(models.make("guess", task), task)
