"""CareThread shared library."""
