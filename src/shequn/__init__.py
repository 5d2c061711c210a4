"""shequn (社群): an open-source community operating system."""

__version__ = "0.1.0"
