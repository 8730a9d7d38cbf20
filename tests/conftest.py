pytest_plugins = ["carethread.testing.fixtures"]
