"""The FHIR R4 (UK Core) facade of the front door: ServiceRequest in, ServiceRequest and Task
out. ``inbound``, ``outbound``, ``parse`` and ``outcome`` are pure mappings (no I/O, no web
framework); ``use_cases`` wraps the front door's own intake and reads; ``router`` serves it."""
