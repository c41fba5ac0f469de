"""The one exception type that the command line turns into a one-line message."""


class ClassifyError(Exception):
    """A user-facing error: bad input, a missing file, a model that cannot be trusted.

    The command line prints ``classify: <message>`` and exits with status 2; the
    message names the file, row or field at fault and what was expected.
    """
