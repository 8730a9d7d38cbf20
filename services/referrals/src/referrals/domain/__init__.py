"""Pure referral rules: no I/O, no framework."""
