"""Runners: one trial (``trial.run_trial``), many trials in parallel (``sweep.run_sweep``, ``sweep.run_many``),
several trials side by side in one kernel call (``lanes.run_lanes``, ``--lanes``), seeding (lstm97.seeding)."""

from .sweep import run_many, run_sweep
from .trial import TrialConfig, run_trial

__all__ = ["TrialConfig", "run_many", "run_sweep", "run_trial"]
