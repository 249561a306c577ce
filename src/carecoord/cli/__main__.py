"""``python -m carecoord.cli``: the command line (see :mod:`carecoord.cli`)."""

from carecoord.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
