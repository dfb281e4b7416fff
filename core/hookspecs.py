"""Every hook retrace calls, in one place.

Plugins (entry-point group ``retrace.plugins``) and adapters (group
``retrace.adapters``) implement these with ``@retrace.hookimpl``. An
implementation may accept fewer arguments than the spec names, so adding an
argument later breaks nobody. Hooks are listed in the order a session calls
them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .redaction import RedactionRules
    from .session import Session

hookspec = pluggy.HookspecMarker("retrace")
hookimpl = pluggy.HookimplMarker("retrace")


@hookspec
def retrace_configure_redaction(rules: RedactionRules) -> None:
    """Add to the rules that keep secrets out of recordings.

    Called once per session, before any adapter is installed. Every
    implementation is called; each adds names and patterns to ``rules``
    (header names, environment variable patterns, body fields).

    :param rules: the session's rules; add with its methods.

    .. versionadded:: 0.1
    """


@hookspec
def retrace_recording_header(header: dict[str, Any]) -> None:
    """Add fields to a new recording's header.

    Called once when a recording starts, before the header is written. Every
    implementation is called; keys it adds must be strings and values plain
    data. Keys starting with ``retrace`` are reserved.

    :param header: the header about to be written.

    .. versionadded:: 0.1
    """


@hookspec
def retrace_session_start(session: Session) -> None:
    """A recording or a replay is about to run the program.

    Called after adapters are installed and before the program's first line.
    Every implementation is called. Use ``session.mode`` (``"record"`` or
    ``"replay"``) and ``session.directory``; write files of your own only
    inside the recording directory.

    :param session: the session starting.

    .. versionadded:: 0.1
    """


@hookspec
def retrace_session_end(session: Session, exit_status: int | None) -> None:
    """The program has ended; the trace is complete.

    Called once, after the footer is written (record) or the trace is checked
    (replay), and before adapters are removed. Every implementation is called.

    :param session: the session ending.
    :param exit_status: the program's exit status, if known.

    .. versionadded:: 0.1
    """
