"""HTTP adapter: the service's behaviour, once, for every framework layer.

Lowest first: ``contract`` (paths, media types, limits), ``auth`` (bearer token -> user id),
``openapi`` (the document), ``service`` (`DashboardHttp`: request parts in, complete response
out). `artist_dashboard.asgi` and `artist_dashboard.flask` are the thin public faces that
translate a framework's requests and responses; `artist_dashboard.auth` re-exports ``auth``.
"""
