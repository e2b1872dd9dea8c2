"""FHIR R4 for GP systems and referral networks: ServiceRequest in, ServiceRequest and Task
(SDOH Clinical Care style closed-loop status) out. Models come from ``fhir.resources.R4B``."""
