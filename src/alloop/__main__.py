"""``python -m alloop`` is ``alloop``."""

from alloop.cli.app import main

main()
