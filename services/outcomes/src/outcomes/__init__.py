"""CareThread outcomes service."""
