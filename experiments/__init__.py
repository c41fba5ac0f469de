"""Experiments on top of the classify package: configurations, a runner, a ledger, a report."""
