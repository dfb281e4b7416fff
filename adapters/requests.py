"""requests: every HTTP exchange is one boundary, its secrets redacted.

The boundary is urllib3's ``HTTPConnectionPool.urlopen``, the one call in
which requests' transport touches the network (docs/adapters/requests.md
says why this depth). Recording reads each response to the end inside the
call and keeps status, headers and body as received; the program then gets
a response rebuilt from those bytes, in record and replay alike, and all of
requests above ``urlopen`` (sessions, cookies, redirects and their history,
``elapsed``, hooks, exception translation) runs for real both times.

Nested calls (urllib3 retrying or following a redirect by calling
``urlopen`` again) are inside the outer call and are not recorded twice.
requests' proxy and netrc lookups are boundaries of their own (see
:mod:`.requests_adapter.environment`).
Neither requests nor urllib3 is imported until the program imports them,
and neither is the implementation (:mod:`.requests_adapter.urlopen`): the
adapter is installed when the program first imports one of them.
"""

from __future__ import annotations

from typing import Any

from retrace import Adapter, Patch

LIBRARY = ("requests", "urllib3")


class RequestsAdapter(Adapter):
    """Records and replays HTTP made with requests (through urllib3's connection pools)."""

    name = "requests"
    distribution = "requests"
    supported = ">=2.28,<3"
    modules = LIBRARY
    imports = LIBRARY

    def patches(self) -> list[Patch]:
        from .requests_adapter import urlopen

        return urlopen.patches()

    def register_codecs(self, codecs: Any) -> None:
        for module in ("requests", "urllib3", "ssl", "socket", "http.client"):
            codecs.allow_exceptions_from(module)

    def start(self, session: Any) -> None:
        from .requests_adapter import urlopen

        urlopen.start(session)

    def stop(self, session: Any) -> None:
        from .requests_adapter import urlopen

        urlopen.stop()


adapter = RequestsAdapter()
