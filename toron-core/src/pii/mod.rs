//! PII and secret detection and redaction (DESIGN.md section 9). Being built: see issue 11.
