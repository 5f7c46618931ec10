"""Server mode: the HTTP API (FastAPI) over the same archive and policy layer."""
