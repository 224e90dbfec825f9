"""Bundled scenarios; the demo lives in demo/.

This directory is packaged as territory_planner.scenarios so `territory-planner demo`
works from an installed wheel.
"""
