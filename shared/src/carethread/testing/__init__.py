"""Test support shipped with the library: a real Tansu broker, per-test databases and an
in-process service runner. Used by the project's tests and available to anyone
integrating with CareThread."""
