"""``python -m bamboo.cli`` is the ``bamboo`` command."""

from bamboo.cli import main

main()
