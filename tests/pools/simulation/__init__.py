"""Deterministic simulation of the ledger (SPEC 4): `python -m tests.pools.simulation --help`."""

from .runner import Config, Report, SimulationFailure, simulate

__all__ = ["Config", "Report", "SimulationFailure", "simulate"]
