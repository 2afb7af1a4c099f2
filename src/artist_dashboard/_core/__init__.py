"""Core: what a dashboard is and how it is computed, framework-free.

It imports only the standard library, attrs and cattrs, and nothing else of this package; the
adapters (``memory``, ``dataset``, ``sql``, ``_http``, ``asgi``, ``flask``, ``cli``) depend on
it, never the reverse. The layers inside, lowest first (each module imports only those before
it): ``errors``, ``values``, ``records``, ``rules``, ``ports``, ``response``, ``clock``,
``build``, ``wire``. Users import it through ``artist_dashboard``, ``artist_dashboard.rules``,
``artist_dashboard.typing`` and ``artist_dashboard.wire``.
"""
