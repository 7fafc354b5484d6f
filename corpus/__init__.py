"""The demo corpus and its gold install as the package data ``treffpunkt.corpus`` (importlib.resources); no code here."""
