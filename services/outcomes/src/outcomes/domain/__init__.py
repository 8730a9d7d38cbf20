"""The outcomes service's pure rules: instruments, change, indicators and their statistics."""
