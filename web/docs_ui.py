"""`/docs`: Swagger UI served by the application itself, so it works offline and under the
Content-Security-Policy (scripts and styles from this site only, no inline script).

FastAPI's own `/docs` loads Swagger UI from a CDN and starts it with an inline script, which
the CSP rightly blocks (a blank page). Here the assets come from the `swagger-ui-bundle-v2`
package (Swagger UI 5, which reads OpenAPI 3.1) mounted under `/docs/assets`, and the page
starts it with `static/swagger-init.js`, which reads the schema's address from the page."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from markupsafe import escape
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/docs/assets"
SWAGGER_DIR = Path(str(swagger_ui_path))

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Mount the assets and add `GET /docs` (create the app with `docs_url=None`)."""
    app.mount(ASSETS, StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")
    page = _PAGE.format(title=escape(app.title), assets=ASSETS, openapi_url=escape(openapi_url))

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)
