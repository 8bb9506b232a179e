"""An example lstm97 plugin (see docs/plugins.md of lstm97): one task and one model, registered through the
entry-point groups ``lstm97.tasks`` and ``lstm97.models`` in this package's pyproject.toml.

* ``delayed-recall`` (:class:`.task.DelayedRecall`): name, at a cue, the symbol shown a few steps earlier.
* ``reservoir`` (:class:`.model.Reservoir`): a fixed random recurrent tanh net with a logistic readout trained
  online by the delta rule.

Nothing is imported here: lstm97 imports the two classes by their entry points, on first use.
"""

__version__ = "0.1.0"
