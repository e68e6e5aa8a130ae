"""Hyperparameter sweeps on Optuna, as nested runs: the sweep is a parent run, each
trial a child run of the same tenant. Optuna is imported only inside this package."""
