"""The observatory's HTTP side: collector, query API and the dashboard, in one process.

The API process owns the DuckDB file (DuckDB allows one writing process): reads
run on per-request cursors of one connection, writes are serialised by one lock
inside the process.  :func:`netvigil.web.app.create_app` builds the application;
``netvigil serve`` runs it on uvicorn.
"""
