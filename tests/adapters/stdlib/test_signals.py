"""Signal handlers replay where they ran: in the middle of a boundary call, or between two.

Each program is recorded with a real signal arriving (from a timer, from a
process the program started, or sent to itself), then replayed where none
arrives, several times: every replay must print what the recording printed,
exit with its status, and fail at the same line when the handler raised.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from retrace.errors import EXIT_DIVERGENCE
from retrace.testing import Run, record, replay

REPLAYS = 3


def _record_and_replays(tmp_path: Path, source: str) -> tuple[Run, list[Run]]:
    program = tmp_path / "app.py"
    program.write_text(textwrap.dedent(source))
    rec = tmp_path / "rec"
    recorded = record(program, rec, cwd=tmp_path)
    assert "retrace:" not in recorded.stderr, recorded.stderr
    replays = [replay(rec) for _ in range(REPLAYS)]
    for n, replayed in enumerate(replays, 1):
        assert replayed.observable() == recorded.observable(), (
            f"replay {n} differs\n--- recorded:\n{recorded.stdout}{recorded.stderr}"
            f"\n--- replayed (status {replayed.status}):\n{replayed.stdout}{replayed.stderr}")
    return recorded, replays


def test_an_alarm_that_interrupts_a_sleep_raises_out_of_it_on_replay(tmp_path: Path) -> None:
    recorded, _ = _record_and_replays(tmp_path, """
        import signal, time

        class TooSlow(Exception):
            pass

        def on_alarm(signum, frame):
            print("alarm", signum, "at", time.time() > 0, flush=True)
            raise TooSlow("gave up waiting")

        signal.signal(signal.SIGALRM, on_alarm)
        print("ours", signal.getsignal(signal.SIGALRM) is on_alarm)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        started = time.monotonic()
        try:
            time.sleep(30)
        except TooSlow as exc:
            print("caught", exc, "after", round(time.monotonic() - started) < 30)
        print("left", signal.alarm(0))
        """)
    assert recorded.status == 0
    assert recorded.stdout == ("ours True\nalarm 14 at True\ncaught gave up waiting after True\n"
                               "left 0\n")


def test_timers_answer_what_they_answered_and_a_pause_ends_where_it_did(tmp_path: Path) -> None:
    """A replay's timer readings come from the recording, not from a timer it armed."""
    recorded, _ = _record_and_replays(tmp_path, """
        import signal, time
        signal.signal(signal.SIGALRM, lambda s, f: print("rang", flush=True))
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        time.sleep(0.1)  # returns at once on replay: a live timer would show more time left
        remaining, interval = signal.getitimer(signal.ITIMER_REAL)
        print("remaining", remaining, 0 < remaining <= 0.2, interval)
        signal.pause()
        print("after pause", signal.getitimer(signal.ITIMER_REAL), signal.alarm(0))
        """)
    lines = recorded.stdout.splitlines()
    assert lines[0].endswith("True 0.0") and lines[1] == "rang"
    # Linux reports a timer whose expiry it is still handling as 1 µs left (itimer_get_remtime):
    # on a busy virtual machine the program can get there first.
    assert lines[2] in ("after pause (0.0, 0.0) 0", "after pause (1e-06, 0.0) 0")


def test_a_termination_request_from_outside_is_handled_at_the_same_call(tmp_path: Path) -> None:
    """The common service shape: a SIGTERM handler asks the loop to stop, mid-wait."""
    recorded, _ = _record_and_replays(tmp_path, """
        import os, signal, subprocess, sys, time
        stopping = []

        def on_term(signum, frame):
            print("term received", signum, flush=True)
            stopping.append(time.monotonic())

        signal.signal(signal.SIGTERM, on_term)
        killer = subprocess.Popen(["sh", "-c", f"sleep 0.3; kill -TERM {os.getpid()}"])
        beats = 0
        while not stopping:
            time.sleep(0.01)
            beats += 1
        killer.wait()
        print("stopped after", beats > 0, "beats;", "clean" if stopping else "no")
        sys.exit(3)
        """)
    assert recorded.status == 3
    assert recorded.stdout == "term received 15\nstopped after True beats; clean\n"


def test_ctrl_c_during_a_wait_crashes_at_the_same_line(tmp_path: Path) -> None:
    recorded, _ = _record_and_replays(tmp_path, """
        import os, subprocess, time
        subprocess.Popen(["sh", "-c", f"sleep 0.3; kill -INT {os.getpid()}"])
        print("waiting", flush=True)
        while True:
            time.sleep(0.05)
        """)
    assert recorded.status == 1
    assert "KeyboardInterrupt" in recorded.stderr and "time.sleep(0.05)" in recorded.stderr


def test_a_signal_sent_to_itself_runs_its_handler_once(tmp_path: Path) -> None:
    recorded, _ = _record_and_replays(tmp_path, """
        import os, signal
        hits = []
        signal.signal(signal.SIGUSR1, lambda s, f: hits.append(s))
        os.kill(os.getpid(), signal.SIGUSR1)
        signal.raise_signal(signal.SIGUSR1)
        print("hits", hits, os.getpid() > 0)
        """)
    assert recorded.stdout == "hits [10, 10] True\n"


def test_sigwait_returns_the_recorded_signal(tmp_path: Path) -> None:
    recorded, _ = _record_and_replays(tmp_path, """
        import os, signal, subprocess
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
        subprocess.Popen(["sh", "-c", f"sleep 0.1; kill -USR2 {os.getpid()}"])
        got = signal.sigwait({signal.SIGUSR2})
        print("got", repr(got), int(got))
        """)
    assert recorded.stdout == "got <Signals.SIGUSR2: 12> 12\n"


def test_a_storm_of_signals_during_busy_recording_replays_every_handler_run(tmp_path: Path) -> None:
    """Handlers land everywhere, retrace's own flushes included: nothing waits for itself."""
    recorded, _ = _record_and_replays(tmp_path, """
        import signal, time
        seen = []
        signal.signal(signal.SIGALRM, lambda s, f: seen.append(time.perf_counter_ns() % 7))
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
        total = 0
        for _ in range(100_000):
            total += time.time_ns() % 3
        signal.setitimer(signal.ITIMER_REAL, 0)
        print("handled", len(seen) > 10, sum(seen), total)
        """)
    assert recorded.status == 0 and recorded.stdout.startswith("handled True ")


def test_a_prompt_interrupted_by_its_deadline_is_written_before_the_handler_runs(
        tmp_path: Path) -> None:
    recorded, _ = _record_and_replays(tmp_path, """
        import os, signal
        reading, keep_open = os.pipe()
        os.dup2(reading, 0)  # a stdin that never answers

        def deadline(signum, frame):
            print("[deadline]", flush=True)
            raise TimeoutError("no answer in time")

        signal.signal(signal.SIGALRM, deadline)
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        try:
            print("hello", input("name? "))
        except TimeoutError as exc:
            print("gave up:", exc)
        """)
    assert recorded.stdout == "name? [deadline]\ngave up: no answer in time\n"


def test_an_http_server_shut_down_by_sigterm_replays_with_no_client(tmp_path: Path) -> None:
    """A service's graceful stop: the handler starts the shutdown while serve_forever waits."""
    recorded, _ = _record_and_replays(tmp_path, """
        import http.server, os, signal, subprocess, sys, threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.end_headers()
                self.wfile.write(self.path.encode())

            def log_message(self, fmt, *args):
                print("served", args[0], flush=True)

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)

        def on_term(signum, frame):
            print("stopping", flush=True)
            threading.Thread(target=server.shutdown).start()

        signal.signal(signal.SIGTERM, on_term)
        client = subprocess.Popen([sys.executable, "-c", f'''
        import os, urllib.request
        for path in ("/a", "/b"):
            assert urllib.request.urlopen("http://127.0.0.1:{server.server_port}" + path).read()
        os.kill({os.getpid()}, 15)
        '''.replace("\\n        ", "\\n")])
        server.serve_forever(poll_interval=0.05)
        print("stopped; client", client.wait())
        """)
    assert recorded.stdout == ('served GET /a HTTP/1.1\nserved GET /b HTTP/1.1\nstopping\n'
                               'stopped; client 0\n'), recorded.stderr


def test_a_replay_whose_program_lost_the_handler_reports_a_divergence(tmp_path: Path) -> None:
    """The recording says a handler ran; the edited program installs none: a report, not an
    exception from retrace raised into the program."""
    program = tmp_path / "app.py"
    program.write_text(textwrap.dedent("""
        import signal, time
        signal.signal(signal.SIGALRM, lambda s, f: print("rang", flush=True))
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        time.sleep(0.5)
        print("after")
        """))
    rec = tmp_path / "rec"
    recorded = record(program, rec, cwd=tmp_path)
    assert recorded.stdout == "rang\nafter\n", recorded.stderr
    edited = rec / "run" / "app.py"
    edited.write_text(edited.read_text().replace("signal.signal(", "(lambda *a: None)("))
    replayed = replay(rec)
    assert replayed.status == EXIT_DIVERGENCE, replayed
    assert "signal 14 arrived here when recorded, and the program has no handler" in replayed.stderr
    assert "Traceback" not in replayed.stderr and "rang" not in replayed.stdout
