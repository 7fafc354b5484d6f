"""``python -m treffpunkt``: the same CLI as the ``treffpunkt`` command (used to start background processes)."""

from treffpunkt.cli import main

main()
