"""``Open(..., logFilePath=...)``: a DEBUG log file that leaves the application's logging as it was.

The file must get everything (DEBUG, raw packets included), so the device's logger has to create
DEBUG records: its level becomes DEBUG.  Left at that, every DEBUG record would also propagate
to the application's handlers (``logging.basicConfig(level=logging.INFO)`` leaves the root
handler at NOTSET: only the *logger* levels filter), so opening with a log file would flood, or
with other configurations change, the console.  Instead, while the file is attached, the
device logger stops propagating and a :class:`_AsConfigured` handler hands each record on to the
ancestors' handlers only if the level the application configured would have let it be created.
:func:`attach_log_file` returns the function that undoes all of it (``Close`` and the
finalizer of a collected device call it).
"""

from __future__ import annotations

import logging
from typing import Callable

__all__ = ["attach_log_file"]

FILE_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class _AsConfigured(logging.Handler):
    """Propagation as the application configured it, for a logger whose level we lowered."""

    def __init__(self, logger: logging.Logger, app_level: int) -> None:
        super().__init__(logging.NOTSET)
        self._logger = logger
        self._app_level = app_level

    def _configured_level(self, name: str) -> int:
        """The effective level the record's logger had before we set DEBUG on ours: the first
        level set from that logger up, our logger counting with its original level."""
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            level = self._app_level if logger is self._logger else logger.level
            if level != logging.NOTSET:
                return level
            logger = logger.parent
        return logging.WARNING

    def handle(self, record: logging.LogRecord) -> bool:
        # no handler lock: the ancestors' handlers take their own
        parent = self._logger.parent
        if parent is None or record.levelno < self._configured_level(record.name):
            return False
        parent.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() does it
        self.handle(record)


def attach_log_file(logger: logging.Logger, path: str) -> Callable[[], None]:
    """Log everything of ``logger`` (and its children) at DEBUG to ``path``; the application's
    handlers keep seeing what they saw before.  Returns the detach function (idempotent).
    Raises ``OSError`` when the file cannot be opened."""
    handler = logging.FileHandler(path)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    app_level, app_propagate = logger.level, logger.propagate
    forward = _AsConfigured(logger, app_level) if app_propagate else None
    logger.addHandler(handler)
    if forward is not None:
        logger.addHandler(forward)
        logger.propagate = False
    logger.setLevel(logging.DEBUG)
    attached = True

    def detach() -> None:
        nonlocal attached
        if not attached:
            return
        attached = False
        logger.removeHandler(handler)
        if forward is not None:
            logger.removeHandler(forward)
            logger.propagate = app_propagate
        logger.setLevel(app_level)
        handler.close()

    return detach
