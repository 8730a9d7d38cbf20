"""The care_plans benchmark: plan reads, versioned updates under concurrent editors, history."""
