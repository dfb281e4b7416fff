"""First-party adapters, each registered through the ``retrace.adapters`` entry point."""
