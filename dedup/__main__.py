"""The command line's entry point: ``dedup`` and ``python -m dedup``.

The command line imports numpy, scipy and scikit-learn, which takes 1-2 s (more on a busy
machine); a Ctrl-C meanwhile ends the run like one later on, with one line and exit 130.
"""

import sys

from .errors import INTERRUPTED


def main() -> None:
    """Import the command line, then run it."""
    try:
        from .cli import cli
    except KeyboardInterrupt:
        sys.stderr.write(INTERRUPTED + "\n")
        sys.exit(130)
    cli()


if __name__ == "__main__":
    main()
