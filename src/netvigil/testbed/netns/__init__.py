"""Namespace mode: a scenario's network in Linux network namespaces, as root.

A router namespace holds an in-path censor (packet rules from :mod:`.rules`, servers from
:mod:`.censor`); the internet namespace holds origins, resolver and helper (:mod:`.service`).
"""
