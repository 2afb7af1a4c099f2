"""Kit: test doubles and Hypothesis strategies for users, and the store conformance kit that
proves a store computes what the core's rules say (`StoreConformance`, and for the analytics
sources `AnalyticsConformance`).

Needs the ``test`` extra (pytest and Hypothesis). `FixedClock` and `InMemoryStore` live in the
package itself and are re-exported here for convenience. The modules below: ``_strategies``
(generated datasets), ``_kit`` (the tests).
"""

from .._core.clock import FixedClock
from ..memory import InMemoryStore
from ._kit import (
    AnalyticsConformance,
    Loader,
    MemoryAnalyticsConformance,
    MemoryStoreConformance,
    StoreConformance,
    reads_from_ports,
)
from ._strategies import (
    NOW,
    Dataset,
    Documents,
    analytics_datasets,
    analytics_documents,
    datasets,
    documents,
    to_dataset,
)

__all__ = [
    "NOW",
    "AnalyticsConformance",
    "Dataset",
    "Documents",
    "FixedClock",
    "InMemoryStore",
    "Loader",
    "MemoryAnalyticsConformance",
    "MemoryStoreConformance",
    "StoreConformance",
    "analytics_datasets",
    "analytics_documents",
    "datasets",
    "documents",
    "reads_from_ports",
    "to_dataset",
]
