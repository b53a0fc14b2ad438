"""`python -m jobs --help` lists every job; spark-submit.sh submits this file too."""
import sys

from jobs.common.cli import main

if __name__ == "__main__":
    sys.exit(main())
