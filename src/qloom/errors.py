"""The one error type users see. The CLI prints ``str(err)`` on one line and exits 2."""
from __future__ import annotations


class QloomError(Exception):
    """A problem with the user's input (model, data, folding, board).

    The message is one line that names the file or node and says what was expected.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class UnsupportedModelError(QloomError):
    """The model uses an op or a pattern qloom cannot lower to integer hardware."""


class InputDataError(QloomError):
    """An input array has the wrong shape or dtype, or cannot be read."""
