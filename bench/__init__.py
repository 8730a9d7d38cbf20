"""Event bus benchmarks: throughput and end-to-end lag through outbox → broker → inbox.

Everything measured is the real thing: the library's ``OutboxRelay`` and ``KafkaBroker``
over a Tansu broker started for the run, and an ``EventConsumer`` with its inbox running
in a process of its own against a database of its own, as another service would.
``python -m bench`` runs it; see ``bench/README.md``.
"""
