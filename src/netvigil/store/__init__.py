"""The I/O edge: files and databases that analysis reads from and writes to."""
