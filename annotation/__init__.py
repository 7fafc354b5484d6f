"""Label Studio side of treffpunkt: workspace, corpus ingestion, schema, push, pull, conversion, agreement.

Never imports from ``training``: data and code flow corpus → annotation → training → models.
"""
