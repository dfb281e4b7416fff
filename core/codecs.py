"""How values cross the trace: plain CBOR data plus the types codecs register.

A value returned by a boundary is turned into plain data (ints, floats,
strings, bytes, lists, dicts, None, booleans) when the event happens, so a
program that later mutates what it was given cannot change the recording, and
an unencodable value is caught at the call that produced it. Any other type
travels as one CBOR tag holding ``[codec name, plain payload]``.

Decoding is the mirror image and is lazy: reading a trace builds only plain
data and :class:`Pending` placeholders; a placeholder becomes a real object
(through the codec that registered its name) only when replay hands it to the
program. Nothing else can be constructed from a trace: cbor2's own tags that
build objects (regular expressions, MIME messages, shared references...) are
refused (:mod:`retrace.decoding`), and exceptions are rebuilt only from builtin classes or classes in
modules an adapter has vouched for.
"""

from __future__ import annotations

import builtins
import datetime as _dt
import importlib
import sys
from collections.abc import Callable
from typing import Any

import cbor2

from .decoding import CODEC_TAG, MAX_DEPTH, Pending
from .decoding import safe_loads as safe_loads  # re-exported: decoding is half of this module's job
from .decoding import to_cbor as to_cbor
from .frozen import Value

SCALARS = frozenset({int, float, str, bytes, bool, type(None)})


class Unencodable(TypeError):
    """A value has no codec; the recording cannot hold it."""


class Codec(Value):
    """One registered type: its stable name in traces and the two conversions."""

    __slots__ = ("decode", "encode", "name", "type")

    name: str
    type: builtins.type
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]

    def __init__(self, name: str, type: builtins.type, encode: Callable[[Any], Any],
                 decode: Callable[[Any], Any]) -> None:
        self._set(name=name, type=type, encode=encode, decode=decode)


class CodecRegistry:
    """Maps types to codecs for one session; adapters add theirs at install time."""

    def __init__(self) -> None:
        self._by_type: dict[type, Codec] = {}
        self._by_name: dict[str, Codec] = {}
        self._exception_modules: set[str] = set()
        _register_builtin_codecs(self)

    def register(
        self,
        type_: type,
        name: str,
        encode: Callable[[Any], Any],
        decode: Callable[[Any], Any],
    ) -> None:
        """Register ``type_`` (exactly, not its subclasses) under ``name``."""
        known = self._by_name.get(name)
        if known is not None and known.type is not type_:
            raise ValueError(f"codec name {name!r} is already registered for {known.type!r}")
        codec = Codec(name, type_, encode, decode)
        self._by_type[type_] = codec
        self._by_name[name] = codec

    def _late(self, module: str, kind: type | None = None) -> Codec | None:
        """The codec of a builtin type whose module is imported only when a value needs it.

        A program that never imports :mod:`decimal` or :mod:`uuid` cannot return
        their values, so their codecs are registered on the first miss instead of
        importing both into every session (docs/performance.md, "start-up").
        """
        register = _LATE.get(module)
        if register is None or module in self._by_name:
            return None
        register(self)
        codec = self._by_name[module]
        return codec if kind is None or codec.type is kind else None

    def allow_exceptions_from(self, module_prefix: str) -> None:
        """Let replay rebuild exception classes defined under ``module_prefix``."""
        self._exception_modules.add(module_prefix)

    def to_plain(self, value: Any, depth: int = 0) -> Any:
        """A fresh plain-data (and CBORTag) copy of ``value``; raises Unencodable."""
        kind = type(value)
        if kind in SCALARS:
            return value
        if depth > MAX_DEPTH:
            raise Unencodable("value nested too deeply to record")
        if kind is list:
            return [self.to_plain(v, depth + 1) for v in value]
        if kind is dict:
            return {self.to_plain(k, depth + 1): self.to_plain(v, depth + 1) for k, v in value.items()}
        codec = self._by_type.get(kind) or self._late(kind.__module__, kind)
        if codec is None:
            if isinstance(value, BaseException):
                return self._exception_to_plain(value, depth)
            raise Unencodable(f"no codec for {kind.__module__}.{kind.__qualname__}")
        return cbor2.CBORTag(CODEC_TAG, [codec.name, self.to_plain(codec.encode(value), depth + 1)])

    def materialize(self, value: Any) -> Any:
        """Turn decoded plain data back into the objects the program saw."""
        kind = type(value)
        if kind in SCALARS:
            return value
        if kind is list:
            return [self.materialize(v) for v in value]
        if kind is dict:
            return {self.materialize(k): self.materialize(v) for k, v in value.items()}
        if kind is Pending:
            if value.name == "exception":
                return self._exception_from_plain(value.payload)
            codec = self._by_name.get(value.name) or self._late(value.name)
            if codec is None:
                raise Unencodable(
                    f"the recording holds a {value.name!r} value but no installed adapter "
                    "registers that codec"
                )
            return codec.decode(self.materialize(value.payload))
        return value

    def _exception_to_plain(self, exc: BaseException, depth: int) -> Any:
        cls = type(exc)
        args = []
        for arg in exc.args:
            try:
                args.append(self.to_plain(arg, depth + 1))
            except Unencodable:
                args.append(str(arg))
        fields = {}
        attributes = dict(getattr(exc, "__dict__", {}))
        if isinstance(exc, OSError):  # C members, not in __dict__, yet part of str(exc)
            extra = {"filename": exc.filename, "filename2": exc.filename2}
            attributes.update({k: v for k, v in extra.items() if v is not None})
        for key, val in attributes.items():
            if key.startswith("__"):
                continue
            try:
                fields[key] = self.to_plain(val, depth + 1)
            except Unencodable:
                continue
        payload = [cls.__module__, cls.__qualname__, args, fields, str(exc)]
        return cbor2.CBORTag(CODEC_TAG, ["exception", payload])

    def _exception_class(self, module: str, qualname: str) -> type[BaseException]:
        if module == "builtins":
            found = getattr(builtins, qualname, None)
        elif any(module == p or module.startswith(p + ".") for p in self._exception_modules):
            owner: Any = sys.modules.get(module) or importlib.import_module(module)
            for part in qualname.split("."):
                owner = getattr(owner, part, None)
            found = owner
        else:
            found = None
        if not (isinstance(found, type) and issubclass(found, BaseException)):
            raise Unencodable(
                f"the recording holds an exception {module}.{qualname} that no installed "
                "adapter vouches for"
            )
        return found

    def _exception_from_plain(self, payload: Any) -> BaseException:
        module, qualname, args, fields, _message = payload
        cls = self._exception_class(module, qualname)
        args = tuple(self.materialize(a) for a in args)
        try:
            exc = cls(*args)
        except Exception:
            exc = cls.__new__(cls, *args)
            exc.args = args
        for key, val in fields.items():
            try:
                setattr(exc, key, self.materialize(val))
            except (AttributeError, TypeError):
                continue
        if type(exc) is not cls:
            exc.__class__ = cls
        return exc


def _tz_to_plain(tz: _dt.tzinfo | None) -> Any:
    if tz is None:
        return None
    zoneinfo = sys.modules.get("zoneinfo")  # a program that never imported it has no ZoneInfo
    if zoneinfo is not None and isinstance(tz, zoneinfo.ZoneInfo):
        return ["zone", tz.key]
    if isinstance(tz, _dt.timezone):
        offset = tz.utcoffset(None)
        return ["fixed", offset.days * 86400 + offset.seconds, offset.microseconds, tz.tzname(None)]
    raise Unencodable(f"no codec for the time zone {tz!r}")


def _tz_from_plain(plain: Any) -> _dt.tzinfo | None:
    if plain is None:
        return None
    if plain[0] == "zone":
        import zoneinfo

        return zoneinfo.ZoneInfo(plain[1])
    _, seconds, micros, name = plain
    offset = _dt.timedelta(seconds=seconds, microseconds=micros)
    if offset == _dt.timedelta(0) and name == "UTC":
        return _dt.timezone.utc
    return _dt.timezone(offset, name)


def _datetime_to_plain(v: _dt.datetime) -> Any:
    return [v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, v.fold,
            _tz_to_plain(v.tzinfo)]


def _datetime_from_plain(p: Any) -> _dt.datetime:
    return _dt.datetime(p[0], p[1], p[2], p[3], p[4], p[5], p[6], tzinfo=_tz_from_plain(p[8]),
                        fold=p[7])


def _time_to_plain(v: _dt.time) -> Any:
    return [v.hour, v.minute, v.second, v.microsecond, v.fold, _tz_to_plain(v.tzinfo)]


def _time_from_plain(p: Any) -> _dt.time:
    return _dt.time(p[0], p[1], p[2], p[3], tzinfo=_tz_from_plain(p[5]), fold=p[4])


def _register_builtin_codecs(reg: CodecRegistry) -> None:
    reg.register(tuple, "tuple", list, tuple)
    reg.register(set, "set", list, set)
    reg.register(frozenset, "frozenset", list, frozenset)
    reg.register(bytearray, "bytearray", bytes, bytearray)
    reg.register(complex, "complex", lambda c: [c.real, c.imag], lambda p: complex(*p))
    reg.register(_dt.datetime, "datetime", _datetime_to_plain, _datetime_from_plain)
    reg.register(_dt.date, "date", lambda d: d.toordinal(), _dt.date.fromordinal)
    reg.register(_dt.time, "time", _time_to_plain, _time_from_plain)
    reg.register(
        _dt.timedelta,
        "timedelta",
        lambda t: [t.days, t.seconds, t.microseconds],
        lambda p: _dt.timedelta(days=p[0], seconds=p[1], microseconds=p[2]),
    )
    reg.register(_dt.timezone, "timezone", _tz_to_plain, _tz_from_plain)


def _register_decimal(reg: CodecRegistry) -> None:
    import decimal

    reg.register(decimal.Decimal, "decimal", str, decimal.Decimal)


def _register_uuid(reg: CodecRegistry) -> None:
    import uuid

    reg.register(uuid.UUID, "uuid", lambda u: u.bytes, lambda b: uuid.UUID(bytes=b))


#: Codecs registered on first use, by module name (which is also the codec's name).
_LATE: dict[str, Callable[[CodecRegistry], None]] = {"decimal": _register_decimal, "uuid": _register_uuid}
