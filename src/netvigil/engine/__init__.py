"""Archive-scale work: fetching OONI's S3 archive and analysing many files in parallel.

``layout`` knows where OONI keeps measurements in its bucket, ``fetch`` downloads them
resumably, ``postcan`` reads the tarball layout, ``job`` runs the per-file analysis
on a process pool or a Dask cluster and writes partitioned Parquet.
"""
