"""Errors retrace reports to users, and the exit statuses that go with them.

Every failure that reaches a user is one of these: a message naming the file
and what to do, and a documented exit status (docs/troubleshooting.md), so a
script or CI job can tell a divergence from a bad recording from the
program's own failure.
"""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_DIVERGENCE = 86
EXIT_RECORDING_ENDS = 87
EXIT_BAD_RECORDING = 88


class RetraceError(Exception):
    """Base of every error retrace reports to a user."""

    exit_status = EXIT_USAGE


class UsageError(RetraceError):
    """The command line or the environment asks for something impossible."""


class BadRecording(RetraceError):
    """A recording is missing, truncated, corrupt or from an incompatible version."""

    exit_status = EXIT_BAD_RECORDING


class RecordingEnds(RetraceError):
    """The replay has used every event of a recording whose process died early."""

    exit_status = EXIT_RECORDING_ENDS


class Divergence(RetraceError):
    """The replayed program asked for something the recording does not hold."""

    exit_status = EXIT_DIVERGENCE


class UnsupportedLibrary(RetraceError):
    """An adapter's library is missing or outside the adapter's supported range."""


class Blocked(Exception):
    """An ordered call cannot complete on replay (a lock that should be free is held).

    Raised by a boundary's ``perform`` hook; the replay turns it into a
    "stuck" divergence report naming every waiting thread. Never reaches the
    program.
    """
