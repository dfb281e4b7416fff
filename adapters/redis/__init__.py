"""The redis-py adapter: every command, pipeline and pub/sub message, replayed without a server.

The boundary is redis-py's client API (``Redis.execute_command``,
``Pipeline.execute``, ``PubSub.parse_response``...), not its sockets: one
event per command or per pipeline, the parsed reply as the outcome, and none
of redis-py's internal clock reads, health checks or pool bookkeeping in the
trace. One module per job: ``commands`` (fingerprints, summaries,
redaction), ``client``, ``pipeline`` and ``pubsub`` (the wrappers),
``calls`` (how an exception leaves a boundary), ``state`` (client-side state
replay reproduces), ``pid`` (redis-py's fork checks, unrecorded),
``aio`` (the asyncio client, awaited through :mod:`retrace.aio`) and
``connections`` (what is not supported yet, said loudly).
docs/adapters/redis.md explains the choice and lists every patch. This
module imports neither redis nor those modules: the adapter is installed
when the program first imports redis, and its patches apply as it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from retrace import Adapter, Patch, distributions

if TYPE_CHECKING:
    from retrace.codecs import CodecRegistry
    from retrace.session import Session

LIBRARY = ("redis",)


def _installed_version() -> tuple[int, ...]:
    text = distributions.installed().version("redis")
    if text is None:
        return (0,)
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


class RedisAdapter(Adapter):
    name = "redis"
    distribution = "redis"
    supported = ">=4.6,<9"
    modules = LIBRARY
    imports = LIBRARY

    def __init__(self) -> None:
        self._pid_view: Any = None

    def patches(self) -> list[Patch]:
        from retrace.adapters.redis import aio, client, connections, pipeline, pubsub

        return [
            Patch("redis.client", "Redis.execute_command", wrapper=client.execute_command),
            Patch("redis.client", "Pipeline.immediate_execute_command",
                  wrapper=pipeline.immediate_execute_command),
            Patch("redis.client", "Pipeline.execute", wrapper=pipeline.execute),
            Patch("redis.client", "PubSub.execute_command", wrapper=pubsub.execute_command),
            Patch("redis.client", "PubSub.parse_response", wrapper=pubsub.parse_response),
            Patch("redis.connection", "ConnectionPool.get_connection",
                  wrapper=connections.get_connection),
            Patch("redis.connection", "BlockingConnectionPool.get_connection",
                  wrapper=connections.get_connection),
            *aio.patches(_installed_version()),
        ]

    def register_codecs(self, codecs: CodecRegistry) -> None:
        codecs.allow_exceptions_from("redis")

    def start(self, session: Session) -> None:
        from retrace.adapters.redis import pid

        self._pid_view = self._pid_view or pid.PidView()
        self._pid_view.install()

    def stop(self, session: Session) -> None:
        if self._pid_view is not None:
            self._pid_view.uninstall()


adapter = RedisAdapter()
