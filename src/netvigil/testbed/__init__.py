"""Measurements made under controlled interference, with their ground truth."""
