"""The parts of the requests adapter: the wire format, the request view, redaction."""
