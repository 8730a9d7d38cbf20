"""Directory benchmark: ORUK import throughput, and search latency and throughput over a
large directory (text + filters + proximity). ``python -m bench.directory`` runs it; see
``bench/README.md``."""
