"""netvigil: an open observatory for internet censorship and shutdowns.

Data flows measurement -> observations -> verdicts.  ``model`` holds the typed
records, ``analysis`` the pure functions between them, ``store`` the DuckDB edge,
and ``cli`` the thin command line.
"""

__version__ = "0.1.0"
