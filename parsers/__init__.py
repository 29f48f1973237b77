"""Parsing: from a document's bytes to the canonical record (``nianbao.report/1``)."""
