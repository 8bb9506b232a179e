"""lstm97: a benchmark suite reproducing Hochreiter & Schmidhuber, "Long Short-Term Memory" (1997).

The specification is ``PAPER.md`` (kept beside the repository); section numbers in docstrings refer to it.
"""

__version__ = "0.1.0"
