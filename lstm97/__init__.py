"""lstm97: a benchmark suite reproducing Hochreiter & Schmidhuber, "Long Short-Term Memory" (1997).

The specification is ``PAPER.md`` (kept beside the repository); section numbers in docstrings refer to it.
The Python API of the main job is :mod:`lstm97.api`; its ``run``, ``reproduce`` and ``load`` are also
available here (imported on first use, so ``import lstm97`` stays light).
"""

__version__ = "0.3.0"

_API = ("run", "reproduce", "load")


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'lstm97' has no attribute {name!r}")
