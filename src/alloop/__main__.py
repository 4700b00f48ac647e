"""``python -m alloop`` is ``alloop``."""

from alloop.cli import main

main()
