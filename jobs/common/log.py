"""Logging, configured once in main()."""
import logging
import sys


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
        force=True,
    )
    # py4j logs every gateway call at INFO; it says nothing a user needs.
    logging.getLogger("py4j").setLevel(logging.WARNING)
