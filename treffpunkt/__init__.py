"""treffpunkt: annotation and model-training workbench for meeting events in German news."""

__version__ = "0.1.0"
