"""CareThread mdt service."""
