"""Running the pipeline: source -> model -> analysis -> store, for every caller, at any scale.

:mod:`.pipeline` is the one ingest path that the command line, the collector and the
parallel engine share; the store below it only persists rows.  ``layout`` knows where
OONI keeps measurements in its bucket, ``fetch`` downloads them resumably, ``postcan``
reads the tarball layout, ``job`` runs the per-file analysis on a process pool or a
Dask cluster and writes partitioned Parquet.
"""
