"""Public face of the core: the ports a store implements, as `typing.Protocol`s.

This is the public path; they are defined in `artist_dashboard._core.ports`. See
docs/writing-a-store.md for what each method must return.
"""

from ._core.ports import *  # noqa: F403
from ._core.ports import __all__ as __all__
