"""Benchmarks: our engine against routilux 1.1.0 and a plain ``queue.Queue`` baseline."""
