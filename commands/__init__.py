"""The ``nianbao`` command line: one module per command."""
