"""Evidence reports: one country and period, as HTML and PDF, every claim traceable.

Each cited measurement appears with its uid and the SHA-256 of the exact bytes
received, so a reader can fetch the raw record (``/api/v1/measurements/UID/raw``)
and check it.  Charts are inline SVG, so the PDF needs no JavaScript.
"""
