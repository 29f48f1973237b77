"""Readers turn the bytes of one file into a :class:`nianbao.parsers.document.Document`."""
