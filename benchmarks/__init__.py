"""Benchmark scripts: they print figures; no timed assertions live in tests."""
