"""The psycopg 3 adapter: PostgreSQL sessions recorded below psycopg's Python layer.

The boundary is psycopg's own seam between its Python code and libpq: the
``PGconn.send_*`` calls (what is sent: SQL text and parameters, the
fingerprint) and the I/O generators of ``psycopg.generators`` (what comes
back: libpq results as raw cells, notices, notifications, connection state).
On replay an offline connection answers from the trace and psycopg's cursors,
adaptation, row factories, transactions and error classes run for real.
Async connections use the same boundaries (see :mod:`.aio`).
docs/adapters/psycopg.md explains the choice.

This module imports nothing from psycopg, nor the modules above: the adapter
is installed when the program first imports psycopg, and its patches apply
as it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrace import Adapter, Patch, distributions

if TYPE_CHECKING:
    from retrace.codecs import CodecRegistry

LIBRARY = ("psycopg", "psycopg_pool", "psycopg_binary", "psycopg_c", "contextlib")


def _installed_version() -> tuple[int, int]:
    text = distributions.installed().version("psycopg")
    if text is None:
        return (0, 0)
    parts = [*text.split("."), "0"][:2]
    try:
        return (int(parts[0]), int("".join(c for c in parts[1] if c.isdigit()) or 0))
    except ValueError:
        return (0, 0)


class PsycopgAdapter(Adapter):
    name = "psycopg"
    distribution = "psycopg"
    supported = ">=3.1,<4"
    modules = LIBRARY
    imports = ("psycopg", "psycopg_binary", "psycopg_c")
    coordinating = ("psycopg_pool",)
    #: 2: a round trip's fingerprint digests its sends as JSON text, not their ``repr``.
    events = 2

    def patches(self) -> list[Patch]:
        from retrace.adapters.psycopg import accel, aio, roundtrips, sends

        version = _installed_version()
        return [
            *sends.patches(since_3_2=version >= (3, 2)),
            *aio.patches(),
            *roundtrips.patches(version),
            *accel.patches(version),
        ]

    def register_codecs(self, codecs: CodecRegistry) -> None:
        """psycopg errors rebuild as their own classes, with their result (the ``diag``)."""
        from retrace.adapters.psycopg import offline

        codecs.allow_exceptions_from("psycopg")
        codecs.register(offline.OfflinePGresult, "psycopg.result", lambda r: r.plain,
                        offline.OfflinePGresult)


adapter = PsycopgAdapter()
