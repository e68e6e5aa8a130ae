"""Experiments and runs: the tracker, the active run and its writer, recovery, provenance.

Import the public names from `matih_jupyter` (or `matih_jupyter.core`).
"""
