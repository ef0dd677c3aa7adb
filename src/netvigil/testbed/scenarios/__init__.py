"""Scenarios: the simulated internets, their censors and the verdict each site must get.

The library's TOML files live beside this package's modules (``*.toml``); the
code reads, validates and describes them.  Both modes run the same scenarios.
"""
