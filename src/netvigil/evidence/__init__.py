"""Evidence that holds up: canonical JSON, signatures and a Merkle tree log, with no I/O.

A probe signs each measurement over its RFC 8785 canonical form (:mod:`.jcs`,
:mod:`.signing`); the collector appends each accepted measurement to an
append-only Merkle tree in the style of RFC 9162 (:mod:`.merkle`) and signs its
tree heads (:mod:`.heads`); a bundle (:mod:`.bundle`) carries what a reader
needs to check all of it offline (:mod:`.verify`).  Reading keys and files is
the callers' business (probe, store, cli); this package only computes.
"""
