"""Django's Redis cache, with one client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every cache call;
building it costs about half of a small `get` against a local Redis (measured here: 255 µs
a get with a new client, 125 µs with one kept). A client is a thin, thread-safe handle on
its pool, which already keeps the connections and starts afresh after a fork, so one per
pool is kept. Used by settings.CACHES when Redis is configured."""

from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

# Django's `incr` asks whether the key exists, then increments it: two round trips for
# every version bump (each booking makes two). One script does both.
_INCR_EXISTING = (
    "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end"
)


class RedisCacheClient(DjangoRedisCacheClient):
    if TYPE_CHECKING:  # Django's own, which its type stubs leave out
        _client: Any

        def _get_connection_pool(self, write: bool) -> Any: ...

        def _get_connection_pool_index(self, write: bool) -> int: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._incr_scripts: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client

    def incr(self, key: Any, delta: int) -> int:
        """As Django's (ValueError when the key is missing, nothing created), in one round
        trip."""
        index = self._get_connection_pool_index(True)
        script = self._incr_scripts.get(index)
        if script is None:
            script = self._incr_scripts[index] = self.get_client(key, write=True).register_script(
                _INCR_EXISTING
            )
        value = script(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
