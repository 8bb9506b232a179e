"""Imported by the fork server of a local pool (:func:`lstm97.runners.sweep._pool_context`, its last preload):
runs the kernels of the pool's configurations once (:func:`~lstm97.runners.trial.warm_up`), so that numba
compiles them (cold cache) or loads them (warm cache) in the server, once, and every worker forked from it
starts with them loaded. The configurations come in the environment variable :data:`ENV` (base64 of a pickle
of (configurations, lanes)), set by the parent only while it starts the server; without it nothing runs.
A configuration whose warm-up fails (a plugin that does not load here, say) is skipped: its trials load their
kernels themselves and report any problem with its message."""

from __future__ import annotations

import base64
import os
import pickle

ENV = "LSTM97_WARM"


def encode(configs: list, lanes: int) -> str:
    """The value of :data:`ENV` for ``configs`` (TrialConfigs) and ``lanes``."""
    return base64.b64encode(pickle.dumps((list(configs), int(lanes)))).decode("ascii")


def _warm() -> frozenset:
    data = os.environ.pop(ENV, None)  # not passed on to the workers forked from here
    if not data:
        return frozenset()
    from .trial import warm_up

    try:
        configs, lanes = pickle.loads(base64.b64decode(data))
    except Exception:
        return frozenset()
    done = set()
    for cfg in configs:
        try:
            warm_up(cfg, lanes)
        except Exception:
            continue
        done.add(cfg.key())
    return frozenset(done)


#: The keys of the configurations whose kernels this process ran at import (in the fork server: all that
#: worked; elsewhere, where :data:`ENV` is unset, none).
WARMED = _warm()
