"""Typed records: OONI measurements, observations and verdicts.

Measurements keep their raw JSON object untouched (fields we do not model
survive a round trip); typed views are parsed from it on demand.
"""
