"""The care_plans domain: rules and values, with no I/O and no framework."""
