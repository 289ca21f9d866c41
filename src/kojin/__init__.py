"""kojin — a privacy-by-design implementation of Japan's My Number system."""

__version__ = "0.1.0"
