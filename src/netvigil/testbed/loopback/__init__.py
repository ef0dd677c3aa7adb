"""Loopback mode: a scenario's whole network in one process on 127.0.0.0/8, without root.

The probe reaches it through a censoring SOCKS5 middle (:mod:`.middle`) that applies the
scenario's policy (:mod:`.policy`) to each client's connections.
"""
