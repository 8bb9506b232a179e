"""The reservoir model: a fixed random recurrent tanh net (an "echo state network") whose logistic readout is
trained online by the delta rule (not in the paper). Kernel: :mod:`._kernels`.

The constructor only stores hyperparameters; everything learned lives in a TrainState whose flat weight vector
holds every weight: W_in and W_res are drawn by ``init_state`` and never change, W_out and b_out are trained.
"""

from __future__ import annotations

import math

import numpy as np

from lstm97.models import ChunkResult, Layout, Model, ModelSpec, TrainState
from lstm97.params import Param

from ._kernels import reservoir_chunk


class Reservoir(Model):
    spec = ModelSpec(
        name="reservoir",
        title="Random tanh reservoir with a logistic readout trained online by the delta rule",
        paper="not in the paper (lstm97 example plugin)",
        params=(
            Param("units", "int", 20, "reservoir units", low=1, high=2000),
            Param("radius", "float", 0.9, "recurrent weights scaled to about this spectral radius", low=0.0, high=10.0),
            Param("input_scale", "float", 1.0, "input weights uniform in ±input_scale", low=0.0, high=100.0),
            Param("init", "float", 0.1, "readout weights start uniform in [-init, init]", low=0.0, high=10.0),
            Param("lr", "float", 0.1, "learning rate of the delta rule", low=0.0, high=1000.0),
        ),
        version=1,
    )
    size_hint = "fewer units"

    def validate(self) -> None:
        U = self.hp["units"]
        shapes = {"W_in": (U, self.n_in), "W_res": (U, U), "W_out": (self.n_out, U), "b_out": (self.n_out,)}
        self._layout = Layout(shapes)  # the blocks of the flat weight vector, in order

    @property
    def layout(self) -> Layout:
        return self._layout

    def init_state(self, rng: np.random.Generator) -> TrainState:
        hp = self.hp
        w = np.zeros(self.layout.size)
        v = self.views(w)
        v["W_in"][:] = rng.uniform(-hp["input_scale"], hp["input_scale"], v["W_in"].shape)
        # entries of variance radius^2 / units: the spectral radius is close to ``radius`` (circular law)
        v["W_res"][:] = rng.uniform(-1.0, 1.0, v["W_res"].shape) * hp["radius"] * math.sqrt(3.0 / hp["units"])
        v["W_out"][:] = rng.uniform(-hp["init"], hp["init"], v["W_out"].shape)
        v["b_out"][:] = rng.uniform(-hp["init"], hp["init"], v["b_out"].shape)
        return TrainState(w, {"updates": 0})  # extra: JSON-able, stored with the trial

    def _run(self, state: TrainState, batch, learn: bool) -> ChunkResult:
        self.check_batch(batch)
        v = self.views(state.w)  # views: the kernel changes state.w in place
        outputs = np.zeros(batch.targets.shape)
        weights = (v["W_in"], v["W_res"], v["W_out"], v["b_out"])
        arrays = (batch.inputs, batch.targets, batch.mask, batch.lengths)
        status, n_done = reservoir_chunk(*weights, *arrays, self.hp["lr"], learn, outputs)
        return ChunkResult(int(status), int(n_done), outputs)

    def train_chunk(self, state: TrainState, batch) -> ChunkResult:
        """Train online on every sequence of ``batch``, in order (the weights change in place)."""
        res = self._run(state, batch, True)
        if state.extra is not None:
            state.extra["updates"] += int(batch.mask[: res.n_done].sum())  # target steps trained on
        return res

    def predict(self, state: TrainState, batch) -> np.ndarray:
        """Outputs [n, L, n_out] at every step, weights unchanged."""
        return self._run(state, batch, False).outputs
