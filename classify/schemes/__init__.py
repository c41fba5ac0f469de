"""Label scheme files shipped with classify (see :mod:`classify.scheme`)."""
