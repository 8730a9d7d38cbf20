"""CareThread directory service."""
