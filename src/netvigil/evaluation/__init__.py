"""Evaluation of netvigil's verdicts against labelled ground truth."""
