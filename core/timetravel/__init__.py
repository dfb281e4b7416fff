"""Time travel: ``retrace debug``, a debugger that steps backwards through a replay.

A replay is deterministic, so any earlier moment can be reached again by
running forward from a copy of the process taken before it. The modules:

- :mod:`.timeline`: positions (thread, step) and the bounded set of checkpoints;
- :mod:`.tracer`: counting the program's steps per thread, cheaply;
- :mod:`.forks`: checkpoints (``os.fork``) and the runners they start;
- :mod:`.output`: the program's output, shown once;
- :mod:`.debugger`: pdb that goes back, and :mod:`.commands`, its commands
  (``rstep``, ``rnext``, ``rreturn``, ``rcontinue``, ``goto``, ``watch``...);
- :mod:`.conditions`, :mod:`.watches`: breakpoint conditions compiled once; watch expressions;
- :mod:`.machine`: JSON commands for programs that drive the debugger;
- :mod:`.coordinator`: the process that holds a session together;
- :mod:`.channel`, :mod:`.console`: messages between the processes, the user's input;
- :mod:`.command`: the ``retrace debug`` subcommand;
- :mod:`.dap`: the same engine over the Debug Adapter Protocol, for VS Code.
"""
