"""How a benchmark's workload reports its timings: on an inherited file descriptor.

A workload run under ``retrace replay`` cannot report through a file: the
files adapter writes nothing on replay (the file keeps what the recording
run wrote, so replay would report the recording's time). Nor through
stdout, which is the program's output and compared with the recording's.
A raw ``os.write`` to a descriptor the workload inherited is no boundary at
all, so it reports the run's own numbers in every mode. The workload writes
``os.write(FD, text.encode())``; :func:`run` and :func:`start` set the
descriptor up.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import IO

FD = 9


def start(command: Sequence[str], env: Mapping[str, str] | None = None
          ) -> tuple[subprocess.Popen[str], IO[str]]:
    """Start ``command`` with :data:`FD` open for writing; the reading end is returned."""
    read, write = os.pipe()
    os.dup2(write, FD)  # inheritable, unlike os.pipe()'s descriptors
    os.close(write)
    try:
        process = subprocess.Popen(list(command), env=env, close_fds=False, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        os.close(FD)
    return process, os.fdopen(read)


def run(command: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 900
        ) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run ``command`` to its end; what it printed, and what it reported on :data:`FD`."""
    process, reports = start(command, env)
    with reports:
        stdout, stderr = process.communicate(timeout=timeout)
        report = reports.read()
    return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr), report
