"""Public face of the core: the app's JSON for a dashboard, and its JSON Schema.

This is the public path; every JSON decision lives in `artist_dashboard._core.wire`, whose
docstring lists them.
"""

from ._core.wire import *  # noqa: F403
from ._core.wire import __all__ as __all__
