"""HTTP adapter, public face: the `Authenticator` port and `JwtAuthenticator`.

This is the public path; the code lives with the rest of the HTTP behaviour in
`artist_dashboard._http.auth`, whose docstring lists the environment settings. Needs PyJWT (the
``asgi`` or ``flask`` extra).
"""

from ._http.auth import *  # noqa: F403
from ._http.auth import __all__ as __all__
