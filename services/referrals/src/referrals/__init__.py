"""CareThread referrals service."""
