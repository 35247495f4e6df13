"""The event-driven system model (SimPy): devices and host as processes, ops in
dependency order, host dispatch overlapping device execution."""

from .sim import StepResult, predict, simulate_step, simulate_split  # noqa: F401
