"""Seeds as streams: one integer seed per trial, independent Generators for each use.

``SeedSequence(seed).spawn`` gives independent streams for the training data, the initial weights, the test
data and model-specific randomness (e.g. guessing). The data streams do not depend on the model, so two
models run with the same seed see the same training and test sequences (paired comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Streams:
    train: np.random.Generator
    weights: np.random.Generator
    test: np.random.Generator
    model: np.random.Generator


def streams(seed: int) -> Streams:
    """The four independent Generators of trial ``seed``."""
    train, weights, test, model = np.random.SeedSequence(int(seed)).spawn(4)
    return Streams(*(np.random.Generator(np.random.PCG64(s)) for s in (train, weights, test, model)))


def check_stream(seed: int, at: int) -> np.random.Generator:
    """The stream of fresh evaluation sequences for the check made after ``at`` training sequences."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(1_000_003, at))))
