"""Benchmarks that print figures (`tracelight bench ...`); never timed assertions in tests."""
