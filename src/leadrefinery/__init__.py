"""Lead Refinery: closed-loop B2B lead management."""

__version__ = "0.1.0"
