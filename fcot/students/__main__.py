"""``python -m fcot.students --train ... --val ... --run-dir ...``: :func:`fcot.students.script.main`."""

import sys

from fcot.students.script import main

if __name__ == "__main__":
    sys.exit(main())
