"""Referrals benchmark: intake throughput and latency (JSON API and FHIR transaction
Bundles, 50 concurrent clients) and the triage queue's latency with 100,000 referrals
stored, against the referrals service running as a process of its own on PostgreSQL, with
its outbox relay publishing to a Tansu broker. ``python -m bench.referrals`` runs it; see
``bench/README.md``.
"""
