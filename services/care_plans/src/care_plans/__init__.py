"""CareThread care_plans service."""
