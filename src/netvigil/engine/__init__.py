"""Running the pipeline: source -> model -> analysis -> store, for every caller.

:mod:`.pipeline` is the one ingest path that the command line, the collector and
the parallel engines share; the store below it only persists rows.
"""
