"""A preset's net, its initial weights and a chunk of fresh sequences, as the kernel benchmarks use them."""

from __future__ import annotations

import numpy as np

from lstm97 import models, tasks
from lstm97.paper import presets


def net_and_batch(preset_id: str, sequences: int, seed: int = 0):
    """(task, model, state, batch) of preset ``preset_id`` at the paper's settings: the model's initial weights
    and ``sequences`` fresh sequences, both from one Generator seeded with ``seed``."""
    p = presets.get(preset_id)
    task = tasks.make(p.task, **p.task_params)
    model = models.make(p.model, task, **p.model_params)
    rng = np.random.default_rng(seed)
    state = model.init_state(rng)
    return task, model, state, task.sample(rng, sequences)
