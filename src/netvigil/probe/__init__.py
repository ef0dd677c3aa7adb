"""The probe: measure the real network, write OONI-compatible measurements.

Data model, in the step-by-step style of OONI's probe (dd-003):

* Every network operation is a small async *step* (``dns``, ``tcp``, ``tls``,
  ``http``) that returns one frozen record (:mod:`netvigil.probe.records`) and
  never raises for a network failure: the failure is classified where it
  happens into the df-007 vocabulary (:mod:`netvigil.probe.errors`).
* A :class:`~netvigil.probe.trace.Trace` holds the measurement's zero time, so
  every record carries ``t0``/``t`` relative to the start, and hands out the
  ``transaction_id`` that joins the DNS, TCP, TLS and HTTP records of one attempt.
* :mod:`netvigil.probe.hop` chains the steps for one URL of a redirect chain;
  :mod:`netvigil.probe.web_connectivity` turns the hops plus the control into a
  df-000 measurement, and :mod:`netvigil.probe.th` turns the same hops into a
  ts-017 test-helper answer, so probe and helper measure with identical code.
* :mod:`netvigil.probe.archival` is the only place that knows OONI's JSON shapes.
"""
