"""The conformance kit, run on the reference in-memory store."""

from artist_dashboard.testing import MemoryAnalyticsConformance, MemoryStoreConformance


class TestInMemoryStore(MemoryStoreConformance):
    """Every kit test on `InMemoryStore`: the kit's own sanity check."""


class TestInMemoryAnalytics(MemoryAnalyticsConformance):
    """Every analytics kit test on `InMemoryStore`."""
