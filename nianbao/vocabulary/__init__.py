"""The report's vocabulary, one home for each piece: every stage takes it from here.

``metrics`` (canonical keys of tables 二/三/四, their row patterns and Chinese labels),
``identities`` (the format's own 勾稽关系, within a record and across years), ``titles`` (the
report's name, look-alikes, the column that lists reports), ``dates`` (date-evidence sources and
their ranking), ``issuers`` (how names compare, which kind of body a name is), ``figures`` (key
figures and rates), ``sections`` (the six sections). Nothing here imports another stage.
"""
