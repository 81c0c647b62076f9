"""Benchmarks that print figures (`tracelight bench ...`); tests never assert on their times."""
