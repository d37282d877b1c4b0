"""The product's settings, with the benchmarks' own URLs (bench/urls.py) added: what
bench/availability.py's gunicorn serves."""

from config.settings import *  # noqa: F403
from config.settings import CACHES

ROOT_URLCONF = "bench.urls"
# Availability answers asked through /bench/uncached/ miss the cache (bench/urls.py).
CACHES["default"]["KEY_FUNCTION"] = "bench.urls.cache_key"
