"""Public face of the core: the metric rules, every weight, window, rounding and ranking.

This is the public path; the rules live in `artist_dashboard._core.rules`. Adapters that push a
rule into a query build it from the names and constants here, and the conformance kit
(`artist_dashboard.testing`) proves they agree.
"""

from ._core.rules import *  # noqa: F403
from ._core.rules import __all__ as __all__
