"""Page-or-fragment rendering and HX-* response helpers.

A page template names each swappable region as a Jinja block whose name is the
element id with dashes turned into underscores. A plain request gets the whole
page; an htmx request that targets one of those ids gets only that block.
"""

from __future__ import annotations

from flask import Response, current_app, make_response, redirect, render_template, request, url_for
from jinja2 import Template


def is_htmx() -> bool:
    """True when htmx made this request."""
    return request.headers.get("HX-Request") == "true"


def target_block() -> str | None:
    """The block an htmx request targets, from HX-Target, when it is a partial swap."""
    if not is_htmx() or request.headers.get("HX-Boosted") == "true":
        return None
    target = request.headers.get("HX-Target")
    return target.replace("-", "_") if target else None


def render_block(template_name: str, block: str, **context) -> str:
    """Render one named block of a template with the full template context."""
    env = current_app.jinja_env
    template: Template = env.get_template(template_name)
    ctx = dict(context)
    current_app.update_template_context(ctx)
    render = template.blocks[block]
    return env.concat(render(template.new_context(ctx)))  # type: ignore[attr-defined]


def render_page(template_name: str, *, status: int = 200, block: str | None = None, **context):
    """The whole page, or only the block an htmx request targets."""
    wanted = block or target_block()
    env = current_app.jinja_env
    if wanted and wanted in env.get_template(template_name).blocks:
        body = render_block(template_name, wanted, **context)
    else:
        body = render_template(template_name, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_to(endpoint: str, **values) -> Response:
    """After an action: HX-Redirect for htmx, a 303 otherwise."""
    location = url_for(endpoint, **values)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)
