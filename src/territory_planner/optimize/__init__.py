"""Optimisation: LP/MILP builders in PuLP and the solve strategy."""
