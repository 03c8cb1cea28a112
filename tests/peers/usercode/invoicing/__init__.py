"""An invoicing application in the usual layout: the aggregate in ``domain``, the
Application (with its own transcoding for invoice lines) in ``application``."""
