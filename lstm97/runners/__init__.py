"""Runners: one trial (``trial.run_trial``), many trials in parallel (``sweep.run_sweep``), seeding."""

from .sweep import run_sweep
from .trial import TrialConfig, run_trial

__all__ = ["TrialConfig", "run_sweep", "run_trial"]
