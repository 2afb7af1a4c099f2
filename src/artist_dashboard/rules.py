"""Public face of the core: the metric rules, every weight, window, rounding and ranking.

This is the public path; the rules live in `artist_dashboard._core.rules` (the dashboard's),
`artist_dashboard._core.analytics` (the analytics sources') and `artist_dashboard._core.numbers`
(exact rounding). Adapters that push a rule into a query build it from the names and constants
here, and the conformance kit (`artist_dashboard.testing`) proves they agree.
"""

from ._core import analytics as _analytics
from ._core import numbers as _numbers
from ._core import rules as _rules
from ._core.analytics import *  # noqa: F403
from ._core.numbers import *  # noqa: F403
from ._core.rules import *  # noqa: F403

__all__ = [*_rules.__all__, *_analytics.__all__, *_numbers.__all__]
