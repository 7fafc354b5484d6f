"""treffpunkt as a Label Studio ML backend: predictions on demand and retraining from annotations (``treffpunkt serve``)."""
