"""What a redis command looks like in a trace: its fingerprint, its summary, its redactions.

The fingerprint of a command is its name and arguments, normalised to plain
data (the same values redis-py would put on the wire) plus the plain-valued
options that change how the reply is parsed. Credentials never get that far:
the password of ``AUTH``, the ``AUTH`` pair of ``HELLO`` and ``MIGRATE``,
password rules of ``ACL SETUSER`` and secret ``CONFIG SET`` values are
replaced by the redaction placeholder before anything is digested or
summarised, and the same ``CONFIG GET`` values are redacted in replies.
"""

from __future__ import annotations

import re
from typing import Any

from retrace.boundary import Args, Kwargs
from retrace.redaction import PLACEHOLDER

_WIRE = (bytes, str, int, float)
_PLAIN_TYPES = frozenset({bytes, str, int, float, bool, type(None)})
_WITH_SECRETS = frozenset({"AUTH", "HELLO", "MIGRATE", "CONFIG", "ACL"})
_SECRET_CONFIG = frozenset({"requirepass", "masterauth", "masteruser"})
_HASH = re.compile(r"#[0-9a-fA-F]{64}")
_HASH_BYTES = re.compile(rb"#[0-9a-fA-F]{64}")
_SUMMARY_ARGS = 1
_SUMMARY_ARG_CHARS = 40


def command_name(args: Args) -> str:
    """``"SET"``, ``"CONFIG GET"``: the upper-cased name of a redis-py command tuple."""
    if not args:
        return ""
    first = args[0]
    if type(first) is str and first.isupper():
        return first
    if isinstance(first, bytes):
        first = first.decode("utf-8", "replace")
    return str(first).upper()


def _plain(value: Any) -> Any:
    if type(value) in _PLAIN_TYPES:
        return value
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, _WIRE):
        return value
    if callable(value):
        return f"<{getattr(value, '__qualname__', type(value).__qualname__)}>"
    return f"<{type(value).__qualname__}>"


def _word(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").upper()
    return str(value).upper()


#: :func:`may_carry_secrets` by a command's first argument, for the names a program uses.
_secret_names: dict[str, bool] = {}
_KNOWN_NAMES = 1024


def may_carry_secrets(args: Args) -> bool:
    """Whether the command is one whose arguments or reply can hold credentials (``AUTH``,
    ``HELLO``, ``MIGRATE``, ``CONFIG``, ``ACL``): the only ones :func:`redacted_args` and
    :func:`redact_reply` change. Remembered per command name, so asking costs a lookup."""
    first = args[0] if args else None
    if type(first) is str:
        known = _secret_names.get(first)
        if known is not None:
            return known
    words = command_name(args).split(None, 1)
    secret = bool(words) and words[0] in _WITH_SECRETS
    if type(first) is str and len(_secret_names) < _KNOWN_NAMES:
        _secret_names[first] = secret
    return secret


def _plain_args(args: Args) -> list[Any]:
    if _PLAIN_TYPES.issuperset(map(type, args)):
        return list(args)
    return [a if type(a) in _PLAIN_TYPES else _plain(a) for a in args]


def redacted_args(args: Args) -> list[Any]:
    """The command as plain data with every credential replaced by the placeholder."""
    if not may_carry_secrets(args):
        return _plain_args(args)
    plain = [a if type(a) in _PLAIN_TYPES else _plain(a) for a in args]
    words = command_name(args).split()
    if len(words) == 1 and len(plain) > 1 and isinstance(plain[1], (str, bytes)):
        words.append(_word(plain[1]))
        first_operand = 2
    else:
        first_operand = 1
    head = " ".join(words[:2])
    if words[:1] == ["AUTH"]:
        return plain[:1] + [PLACEHOLDER] * (len(plain) - 1)
    if words[:1] in (["HELLO"], ["MIGRATE"]):
        return _redact_after_auth(plain)
    if head == "CONFIG SET":
        return _redact_config_set(plain, first_operand)
    if head == "ACL SETUSER":
        return [PLACEHOLDER if i > first_operand and _password_rule(a) else a
                for i, a in enumerate(plain)]
    return plain


def _redact_config_set(plain: list[Any], first: int) -> list[Any]:
    out = list(plain)
    for i in range(first, len(out) - 1, 2):
        if _word(out[i]).lower() in _SECRET_CONFIG:
            out[i + 1] = PLACEHOLDER
    return out


def _redact_after_auth(plain: list[Any]) -> list[Any]:
    out = list(plain)
    for i, arg in enumerate(out):
        word = _word(arg) if isinstance(arg, (str, bytes)) else ""
        if word == "AUTH":
            count = 1 if command_name(tuple(plain)) == "MIGRATE" else 2
            out[i + 1 : i + 1 + count] = [PLACEHOLDER] * len(out[i + 1 : i + 1 + count])
        elif word == "AUTH2":
            out[i + 1 : i + 3] = [PLACEHOLDER] * len(out[i + 1 : i + 3])
    return out


def _password_rule(arg: Any) -> bool:
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else arg
    return isinstance(text, str) and text[:1] in (">", "<", "#", "!")


def _options(kwargs: Kwargs) -> list[Any]:
    # "keys" (redis-py 5+, for client-side caching) repeats what the arguments say.
    return [[str(k), _plain(v)] for k, v in sorted(kwargs.items(), key=lambda kv: str(kv[0]))
            if k != "keys"]


def _has_options(kwargs: Kwargs) -> bool:
    return bool(kwargs) and (len(kwargs) > 1 or "keys" not in kwargs)


def fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Name, arguments and parse options of one command (credentials redacted)."""
    if _has_options(kwargs):
        return [redacted_args(args), _options(kwargs)]
    return redacted_args(args)


def plain_fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """:func:`fingerprint` of a command that carries no credentials (see
    :func:`may_carry_secrets`): the same data, without looking for any."""
    if _PLAIN_TYPES.issuperset(map(type, args)):  # _plain_args, inlined: every command's path
        plain = list(args)
    else:
        plain = [a if type(a) in _PLAIN_TYPES else _plain(a) for a in args]
    if kwargs and (len(kwargs) > 1 or "keys" not in kwargs):  # _has_options, inlined
        return [plain, _options(kwargs)]
    return plain


def stack_fingerprint(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Every command queued in a pipeline, and how it will be sent.

    One flat list (commands separated by None, which redis-py never sends), so
    digesting a pipeline of hundreds of commands walks one list, not hundreds.
    """
    flat: list[Any] = [bool(instance.transaction or instance.explicit_transaction),
                       bool(instance.watching), _options(kwargs), list(args)]
    stack = instance.command_stack
    queued = _plain_stack(stack)
    if queued is not None:
        flat += queued
        return flat
    for cmd_args, options in stack:
        flat.append(None)
        flat += redacted_args(cmd_args)
        if options and _has_options(options):
            flat.append(_options(options))
    return flat


def _plain_stack(stack: list[tuple[Args, Kwargs]]) -> list[Any] | None:
    """The queued commands as :func:`stack_fingerprint` lists them, when each is its own
    fingerprint (a name known to carry no credentials, no parse options, plain arguments);
    None when one is not. The common pipeline's way: one loop, the types checked in C."""
    flat: list[Any] = []
    known = _secret_names
    try:
        for cmd_args, options in stack:
            if known.get(cmd_args[0]) is not False or (
                    options and (len(options) > 1 or "keys" not in options)):
                return None
            flat.append(None)
            flat += cmd_args
    except (IndexError, TypeError):  # a command with no arguments, or an unhashable name
        return None
    return flat if _PLAIN_TYPES.issuperset(map(type, flat)) else None


def secret_positions(stack: list[tuple[Args, Kwargs]]) -> list[tuple[int, Args]]:
    """The queued commands whose replies :func:`redact_reply` may change, with their positions
    in the stack; each name's answer looked up inline, as :func:`_plain_stack` does, since
    every pipeline's execute asks."""
    known = _secret_names
    found = []
    for position, (cmd_args, _) in enumerate(stack):
        first = cmd_args[0] if cmd_args else None
        secret = known.get(first) if type(first) is str else None
        if secret is None:
            secret = may_carry_secrets(cmd_args)
        if secret:
            found.append((position, cmd_args))
    return found


def _short(value: Any) -> str:
    text = repr(_plain(value))
    return text if len(text) <= _SUMMARY_ARG_CHARS else text[: _SUMMARY_ARG_CHARS - 1] + "…"


def summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    """``GET 'user:1'``: the command for a person reading a divergence report."""
    name = command_name(args)
    shown_args: Any = redacted_args(args) if name.split(" ", 1)[0] in _WITH_SECRETS else args
    shown = " ".join([_short(a) for a in shown_args[1 : _SUMMARY_ARGS + 1]])
    extra = len(args) - 1 - _SUMMARY_ARGS
    more = f" …(+{extra} args)" if extra > 0 else ""
    return f"{name} {shown}{more}".rstrip()


_KEYED = frozenset({str, bytes, int})


def summary_key(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """What :func:`summary` shows, cheaply: the command, its first argument (when short) and
    how many follow. None for commands that can carry credentials (their summary is redacted
    every time) and for arguments that do not make a cheap key."""
    first = args[0] if args else None
    if type(first) is not str or may_carry_secrets(args):
        return None
    shown = args[1] if len(args) > 1 else None
    if shown is not None and (type(shown) not in _KEYED
                              or (type(shown) is not int and len(shown) > _SUMMARY_ARG_CHARS)):
        return None
    return (first, type(shown), shown, len(args))


def plain_summary_key(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """:func:`summary_key` of a command that carries no credentials."""
    if not args or type(args[0]) is not str:
        return None
    shown = args[1] if len(args) > 1 else None
    if shown is not None and (type(shown) not in _KEYED
                              or (type(shown) is not int and len(shown) > _SUMMARY_ARG_CHARS)):
        return None
    return (args[0], type(shown), shown, len(args))


def stack_summary(instance: Any, args: Args, kwargs: Kwargs) -> str:
    """``MULTI/EXEC of 3: SET 'a' 1; GET 'a'; …``."""
    stack = instance.command_stack
    kind = "MULTI/EXEC" if (instance.transaction or instance.explicit_transaction) else "pipeline"
    first = "; ".join(summary(None, tuple(c[0]), {}) for c in stack[:2])
    more = "; …" if len(stack) > 2 else ""
    return f"{kind} of {len(stack)}: {first}{more}"


def stack_summary_key(instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """What :func:`stack_summary` shows, cheaply: the kind, the length and the first two
    commands' :func:`summary_key` (None when one of those has none)."""
    stack = instance.command_stack
    shown = [summary_key(None, c[0], {}) for c in stack[:2]]
    if None in shown:
        return None
    return (bool(instance.transaction or instance.explicit_transaction), len(stack), *shown)


def redact_reply(value: Any, instance: Any, args: Args, kwargs: Kwargs) -> Any:
    """Secrets in replies never reach the trace (the program still sees them): the values of
    ``CONFIG GET requirepass|masterauth|masteruser`` and the password hashes ``ACL GETUSER``
    and ``ACL LIST`` show."""
    first = args[0] if args else ""
    if type(first) is str and first[:1] not in "CcAa":
        return value
    words = command_name(args).split()
    if len(words) == 1 and len(args) > 1 and isinstance(args[1], (str, bytes)):
        words.append(_word(args[1]))
    head = " ".join(words[:2])
    if head == "CONFIG GET":
        return _redact_config_reply(value)
    if head in ("ACL GETUSER", "ACL LIST"):
        return _redact_password_hashes(value)
    return value


def _redact_config_reply(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (PLACEHOLDER if _word(k).lower() in _SECRET_CONFIG else v)
                for k, v in value.items()}
    if isinstance(value, list):
        out = list(value)
        for i in range(0, len(out) - 1, 2):
            if _word(out[i]).lower() in _SECRET_CONFIG:
                out[i + 1] = PLACEHOLDER
        return out
    return value


def _redact_password_hashes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ([PLACEHOLDER] * len(v) if _word(k) == "PASSWORDS" and isinstance(v, list)
                    else v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_HASH.sub(f"#{PLACEHOLDER}", v) if isinstance(v, str)
                else _HASH_BYTES.sub(f"#{PLACEHOLDER}".encode(), v) if isinstance(v, bytes)
                else v
                for v in value]
    return value
