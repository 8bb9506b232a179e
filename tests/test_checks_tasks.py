"""The task contract (lstm97.checks.check_task) catches each typical mistake with a message that names the fix.

One deliberately broken task class per mistake, each a small change of a correct task (``Tiny``); every one
must raise ContractError (never a raw exception from inside the checker) whose message matches.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lstm97.checks import ContractError, check_task, run_checks, task_checks
from lstm97.params import Param
from lstm97.tasks import Protocol, SequenceBatch, Task, TaskSpec
from lstm97.tasks.criteria import EvalRule, st3

SPEC = TaskSpec(
    name="tiny",
    title="Tiny test task",
    paper="not in the paper (a test of the contract checks)",
    params=(Param("L", "int", 5, "longest sequence", low=3, high=50),),
    version=1,
)


class Tiny(Task):
    """A correct task: two inputs, one output (the first input of step 0, at the last step), lengths in [3, L]."""

    spec = SPEC
    paper_defaults = {"lstm": {"blocks": 1, "block_size": 1, "lr": 0.5}}
    tolerance = 0.1

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return 1

    def protocol(self) -> Protocol:
        return Protocol(stop=st3(0.01, window=10), max_sequences=1000, n_test=10, description="ST3(0.01) over 10")

    def arrays(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        L = self.params["L"]
        u = rng.random((n, 1 + 2 * L))
        lengths = 3 + np.floor(u[:, 0] * (L - 2)).astype(np.int64)
        alive = np.arange(L)[None, :] < lengths[:, None]
        inputs = np.where(alive[:, :, None], u[:, 1:].reshape(n, L, 2), 0.0)
        rows = np.arange(n)
        targets = np.zeros((n, L, 1))
        mask = np.zeros((n, L), dtype=bool)
        targets[rows, lengths - 1, 0] = inputs[rows, 0, 0]
        mask[rows, lengths - 1] = True
        return {"inputs": inputs, "targets": targets, "mask": mask, "lengths": lengths}

    def sample(self, rng: np.random.Generator, n: int) -> SequenceBatch:
        return SequenceBatch(**self.arrays(rng, n))


def spec(**changes) -> TaskSpec:
    from dataclasses import replace

    return replace(SPEC, **changes)


def protocol(**changes) -> Protocol:
    base = dict(stop=st3(0.01, window=10), max_sequences=1000, n_test=10, description="ST3(0.01) over 10")
    return Protocol(**{**base, **changes})


def with_arrays(name, change):
    """A Tiny whose arrays are changed by ``change(arrays, n)`` (returning the new dict) before the batch."""

    def sample(self, rng, n):
        return SequenceBatch(**change(self.arrays(rng, n), n))

    return type(name, (Tiny,), {"sample": sample})


# -- the spec -------------------------------------------------------------------------------------------------
class SpecIsADict(Tiny):
    spec = {"name": "tiny", "title": "x", "paper": "x", "params": ()}

    def __init__(self):
        self.params = {}


class NoName(Tiny):
    spec = spec(name="")


class NoTitle(Tiny):
    spec = spec(title=" ")


class NoPaper(Tiny):
    spec = spec(paper=None)


class VersionZero(Tiny):
    spec = spec(version=0)


class VersionString(Tiny):
    spec = spec(version="1")


class ParamsList(Tiny):
    spec = spec(params=[Param("L", "int", 5, "longest sequence", low=3, high=50)])


class ParamNotAParam(Tiny):
    spec = spec(params=(Param("L", "int", 5, "longest", low=3, high=50), ("T", "int", 100)))

    def __init__(self):
        self.params = {"L": 5}


class DuplicateParam(Tiny):
    spec = spec(params=(Param("L", "int", 5, "longest", low=3, high=50), Param("L", "int", 6, "again", low=3)))


class DefaultOutOfRange(Tiny):
    spec = spec(params=(Param("L", "int", 5, "longest sequence", low=3, high=50), Param("k", "int", 5, "k", low=10)))

    def __init__(self):
        self.params = {"L": 5, "k": 5}


class NoSuperInit(Tiny):
    def __init__(self, **params):
        self.L = 5


class ZeroInputs(Tiny):
    @property
    def n_in(self):
        return 0


class FloatOutputs(Tiny):
    @property
    def n_out(self):
        return 1.0


class NoNIn(Task):
    spec = SPEC

    def protocol(self):
        return protocol()


# -- the protocol ---------------------------------------------------------------------------------------------
class ProtocolDict(Tiny):
    def protocol(self):
        return {"stop": st3(0.01), "max_sequences": 1000, "n_test": 10}


class StopIsAString(Tiny):
    def protocol(self):
        return protocol(stop="ST3(0.01)")


class NoBudget(Tiny):
    def protocol(self):
        return protocol(max_sequences=0)


class NoTest(Tiny):
    def protocol(self):
        return protocol(n_test=0)


class NegativeEval(Tiny):
    def protocol(self):
        return protocol(n_eval=-1)


class NoDescription(Tiny):
    def protocol(self):
        return protocol(description="")


class EvalTestWithoutSet(Tiny):
    def protocol(self):
        return protocol(test_on_eval=True)


class EvalRuleWithoutSet(Tiny):
    def protocol(self):
        return protocol(stop=EvalRule(every=10, sets=("eval",)))


class MilestonesList(Tiny):
    def protocol(self):
        return protocol(milestones=[st3(0.1, window=10)])


# -- paper defaults -------------------------------------------------------------------------------------------
class MisspeltModel(Tiny):
    paper_defaults = {"lstn": {"blocks": 1}}


class MisspeltHyperparameter(Tiny):
    paper_defaults = {"lstm": {"blcks": 1}}


class InvalidHyperparameter(Tiny):
    paper_defaults = {"lstm": {"lr": -1.0}}


class RefusedHyperparameters(Tiny):
    paper_defaults = {"lstm": {"blocks": 2, "in_gate_bias": (-1.0, -2.0, -3.0)}}


class DefaultsNotADict(Tiny):
    paper_defaults = {"lstm": [("blocks", 1)]}


# -- sample ---------------------------------------------------------------------------------------------------
class ReturnsATuple(Tiny):
    def sample(self, rng, n):
        a = self.arrays(rng, n)
        return a["inputs"], a["targets"], a["mask"], a["lengths"]


def _transpose(a, names=("inputs", "targets", "mask")):
    return {k: (np.ascontiguousarray(np.swapaxes(v, 0, 1)) if k in names else v) for k, v in a.items()}


TimeMajor = with_arrays("TimeMajor", lambda a, n: _transpose(a))
TimeMajorInputs = with_arrays("TimeMajorInputs", lambda a, n: _transpose(a, ("inputs",)))
AxisLessTargets = with_arrays("AxisLessTargets", lambda a, n: {**a, "targets": a["targets"][:, :, 0].copy()})
Float32Inputs = with_arrays("Float32Inputs", lambda a, n: {**a, "inputs": a["inputs"].astype(np.float32)})
FloatMask = with_arrays("FloatMask", lambda a, n: {**a, "mask": a["mask"].astype(np.float64)})
Int32Lengths = with_arrays("Int32Lengths", lambda a, n: {**a, "lengths": a["lengths"].astype(np.int32)})
FortranInputs = with_arrays("FortranInputs", lambda a, n: {**a, "inputs": np.asfortranarray(a["inputs"])})
ListLengths = with_arrays("ListLengths", lambda a, n: {**a, "lengths": list(a["lengths"])})
OneTooFew = with_arrays("OneTooFew", lambda a, n: {k: v[: n - 1] for k, v in a.items()})
ThreeInputs = with_arrays("ThreeInputs", lambda a, n: {**a, "inputs": np.dstack([a["inputs"], a["targets"]])})


def _pad_inputs(a, n):
    inputs = a["inputs"].copy()
    inputs[:, -1] = 0.5  # the padded step of every sequence shorter than L
    return {**a, "inputs": inputs}


def _pad_mask(a, n):
    mask = a["mask"].copy()
    mask[:, -1] = True
    return {**a, "mask": mask}


def _unmasked_targets(a, n):
    targets = a["targets"].copy()
    targets[:, 0, 0] = 0.25  # step 0 is within every length, but unmasked
    return {**a, "targets": targets}


def _no_target(a, n):
    mask = a["mask"].copy()
    targets = a["targets"].copy()
    mask[0], targets[0] = False, 0.0
    return {**a, "mask": mask, "targets": targets}


def _nan(a, n):
    inputs = a["inputs"].copy()
    inputs[0, 0, 0] = np.nan
    return {**a, "inputs": inputs}


InputsInPadding = with_arrays("InputsInPadding", _pad_inputs)
MaskInPadding = with_arrays("MaskInPadding", _pad_mask)
TargetsAtUnmaskedSteps = with_arrays("TargetsAtUnmaskedSteps", _unmasked_targets)
SequenceWithoutTarget = with_arrays("SequenceWithoutTarget", _no_target)
NaNInputs = with_arrays("NaNInputs", _nan)


class BadActive(Tiny):
    def sample(self, rng, n):
        b = super().sample(rng, n)
        return SequenceBatch(b.inputs, b.targets, b.mask, b.lengths, {"active": np.zeros(b.mask.shape, np.int64)})


class GlobalRNG(Tiny):
    def sample(self, rng, n):
        np.random.random()
        return super().sample(rng, n)


_counter = itertools.count()


class NotDeterministic(Tiny):
    def sample(self, rng, n):
        batch = super().sample(rng, n)
        batch.inputs[0, 0, 1] = next(_counter) % 7 / 10  # something other than the Generator
        return batch


class ChunkVariant(Tiny):
    def sample(self, rng, n):
        rng.random()  # randomness drawn per call, not per sequence
        return super().sample(rng, n)


class SampleNotImplemented(Tiny):
    def sample(self, rng, n):
        raise NotImplementedError


class SampleRaises(Tiny):
    def sample(self, rng, n):
        return {}["inputs"]


# -- the success test and fixed sets --------------------------------------------------------------------------
class CorrectList(Tiny):
    def correct(self, batch, outputs):
        return [True] * len(batch)


class CorrectAcceptsAnything(Tiny):
    def correct(self, batch, outputs):
        return np.ones(len(batch), dtype=bool)


class CorrectAcceptsNaN(Tiny):
    def correct(self, batch, outputs):
        err = np.abs(batch.targets - outputs).max(axis=2)
        return ~(np.where(batch.mask, err, 0.0) >= self.tolerance).any(axis=1)


class ErrorPerStep(Tiny):
    def error(self, batch, outputs):
        return ((batch.targets - outputs) ** 2).sum(axis=2)


class WrongEvalSet(Tiny):
    def protocol(self):
        return protocol(n_eval=10)

    def fixed_sets(self, train_rng, eval_rng):
        return None, self.sample(eval_rng, 5)


BROKEN = [
    (SpecIsADict, r"spec is a dict, not a lstm97\.tasks\.TaskSpec"),
    (NoName, r"spec\.name must be a non-empty string"),
    (NoTitle, r"spec\.title must be a non-empty string"),
    (NoPaper, r"spec\.paper must be a non-empty string"),
    (VersionZero, r"spec\.version must be an int >= 1"),
    (VersionString, r"spec\.version must be an int >= 1"),
    (ParamsList, r"spec\.params must be a tuple of lstm97\.params\.Param"),
    (ParamNotAParam, r"spec\.params\[1\] is a tuple .* not a lstm97\.params\.Param"),
    (DuplicateParam, r"declares 'L' twice"),
    (DefaultOutOfRange, r"\(k\): the default 5 is not valid for its own declaration"),
    (NoSuperInit, r"call super\(\)\.__init__\(\*\*params\)"),
    (ZeroInputs, r"n_in must be a positive int"),
    (FloatOutputs, r"n_out must be a positive int"),
    (NoNIn, r"n_in is not implemented"),
    (ProtocolDict, r"protocol\(\) returned a dict, not a lstm97\.tasks\.Protocol"),
    (StopIsAString, r"stop is a str, not a stopping rule: use one from lstm97\.tasks\.criteria"),
    (NoBudget, r"max_sequences must be a positive int"),
    (NoTest, r"n_test must be a positive int"),
    (NegativeEval, r"n_eval must be a non-negative int"),
    (NoDescription, r"description must say in words"),
    (EvalTestWithoutSet, r"test_on_eval=True but n_eval=0"),
    (EvalRuleWithoutSet, r"evaluates the fixed 'eval' set but the protocol's n_eval is 0"),
    (MilestonesList, r"milestones must be a tuple"),
    (MisspeltModel, r"names the model 'lstn', which is not registered\. Did you mean 'lstm'\?"),
    (MisspeltHyperparameter, r"sets 'blcks', which model 'lstm' does not declare\. Did you mean 'blocks'\?"),
    (InvalidHyperparameter, r"\['lr'\] = -1\.0 is not valid for model 'lstm'"),
    (RefusedHyperparameters, r"model 'lstm' refuses the task's paper defaults: .*in_gate_bias has 3 values"),
    (DefaultsNotADict, r"paper_defaults\['lstm'\] must be a dict"),
    (ReturnsATuple, r"returned a tuple, not a SequenceBatch"),
    (TimeMajor, r"time-major"),
    (TimeMajorInputs, r"inputs has shape \(5, 7, 2\), time-major"),
    (AxisLessTargets, r"targets has shape \(7, 5\), \[n, L\] without the feature axis \(axis-less\)"),
    (Float32Inputs, r"inputs must be float64, got float32"),
    (FloatMask, r"mask must be bool, got float64"),
    (Int32Lengths, r"lengths must be int64, got int32"),
    (FortranInputs, r"inputs must be C-contiguous"),
    (ListLengths, r"lengths is a list, not a numpy array"),
    (OneTooFew, r"returned 6 sequences for n=7"),
    (ThreeInputs, r"inputs have 3 units .* n_in is 2"),
    (InputsInPadding, r"inputs and targets must be zero beyond each sequence's length"),
    (MaskInPadding, r"mask must be False beyond each sequence's length"),
    (TargetsAtUnmaskedSteps, r"non-zero targets at unmasked steps"),
    (SequenceWithoutTarget, r"every sequence needs at least one target step"),
    (NaNInputs, r"must be finite"),
    (BadActive, r"info\['active'\] must name the one hot input unit"),
    (GlobalRNG, r"only the Generator it is given, not np\.random's global state"),
    (NotDeterministic, r"sample is not deterministic"),
    (ChunkVariant, r"not chunk-invariant: one call with n=7 must give the same sequences as 7 calls with n=1"),
    (SampleNotImplemented, r"sample\(rng, 7\) is not implemented"),
    (SampleRaises, r"sample\(rng, 7\) raised KeyError"),
    (CorrectList, r"correct must return a bool array of shape \[n\]"),
    (CorrectAcceptsAnything, r"correct accepts outputs 1000 away .* it must reject wrong outputs"),
    (CorrectAcceptsNaN, r"correct must count NaN outputs wrong"),
    (ErrorPerStep, r"error must return a float64 array of shape \[n\]"),
    (WrongEvalSet, r"fixed_sets \(the n_eval=10 set\) returned 5 sequences for n=10"),
]


def test_a_correct_task_passes():
    check_task(Tiny())
    check_task(Tiny(L=3))


@pytest.mark.parametrize("cls,message", BROKEN, ids=[c.__name__ for c, _ in BROKEN])
def test_a_broken_task_is_caught(cls, message):
    with pytest.raises(ContractError, match=message) as info:
        check_task(cls())
    assert "\n" not in str(info.value)  # one line


def test_every_mistake_fails_its_own_check():
    """The failures are attributed to the check that names them (the CLI prints one line per check)."""
    expect = {
        TimeMajor: "tiny/batch",
        ChunkVariant: "tiny/chunk-invariance",
        MisspeltModel: "tiny/paper-defaults",
        EvalTestWithoutSet: "tiny/protocol",
        CorrectAcceptsNaN: "tiny/success-test",
        NotDeterministic: "tiny/determinism",
    }
    for cls, check in expect.items():
        outcomes = run_checks(task_checks(cls()))
        failed = [o.check.id for o in outcomes if o.status == "FAIL"]
        assert failed == [check], (cls.__name__, failed)


def test_checks_after_a_failed_one_are_skipped():
    outcomes = {o.check.name: o for o in run_checks(task_checks(SampleRaises()))}
    assert outcomes["batch"].status == "FAIL"
    assert outcomes["determinism"].status == "skip" and "tiny/batch did not pass" in outcomes["determinism"].message
    assert outcomes["protocol"].status == "ok"


def test_the_plugin_exception_is_chained():
    with pytest.raises(ContractError) as info:
        check_task(SampleRaises())
    causes = []
    exc = info.value
    while exc is not None:
        causes.append(type(exc))
        exc = exc.__cause__
    assert causes == [ContractError, ContractError, KeyError]  # the check's, the call's, the plugin's own
