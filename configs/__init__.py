"""Shipped defaults: this folder installs as the package data ``treffpunkt.configs`` (read with importlib.resources)."""
