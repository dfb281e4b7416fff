"""First-party lifecycle plugins: they patch no library (entry-point group ``retrace.plugins``)."""
