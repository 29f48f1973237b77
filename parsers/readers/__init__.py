"""Readers turn the bytes of one file into a :class:`parsers.document.Document`."""
