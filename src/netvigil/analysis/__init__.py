"""Pure analysis: measurements and observations in, verdicts out; no I/O."""
