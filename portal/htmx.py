"""Page-or-fragment rendering and HX-* response helpers.

A page template names each swappable region as a Jinja block whose name is the
element id with dashes turned into underscores. A plain request gets the whole
page. An htmx request gets one region alone only when the view declares that
region among its `fragments` and the request targets it; the region is then cut
from the page rendered in full for this request, so it holds exactly what the page
would show (a region the page hides from this viewer is never sent). Any other
target gets the whole page, as a plain request would.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from flask import Response, current_app, make_response, redirect, render_template, request, url_for
from jinja2 import Template

VARY = ("HX-Request", "HX-Target")


def is_htmx() -> bool:
    """True when htmx made this request."""
    return request.headers.get("HX-Request") == "true"


def target_id() -> str | None:
    """The element id an htmx request targets, from HX-Target, when it is a partial swap."""
    if not is_htmx() or request.headers.get("HX-Boosted") == "true":
        return None
    return request.headers.get("HX-Target") or None


def block_name(element_id: str) -> str:
    """The block that renders an element: its id with dashes turned into underscores."""
    return element_id.replace("-", "_")


def _template_context(context: dict) -> dict:
    ctx = dict(context)
    current_app.update_template_context(ctx)
    return ctx


def render_block(template_name: str, block: str, **context) -> str:
    """Render one named block of a template with the full template context."""
    env = current_app.jinja_env
    template: Template = env.get_template(template_name)
    render = template.blocks[block]
    return env.concat(render(template.new_context(_template_context(context))))  # type: ignore[attr-defined]


# template -> {block: the top-level block it sits in}, learnt from the first render that shows
# the block (a template reloaded in development is a new object, learnt afresh).
_TOP_BLOCKS: weakref.WeakKeyDictionary[Template, dict[str, str]] = weakref.WeakKeyDictionary()


class _Tracked:
    """A block's render function, run through `run` (which may skip it)."""

    __slots__ = ("name", "render", "run")

    def __init__(self, name: str, render, run) -> None:
        self.name, self.render, self.run = name, render, run

    def __call__(self, context):
        return self.run(self.name, self.render, context)

    def __eq__(self, other) -> bool:  # Context.super finds a block by its own function
        return other is self or other is self.render

    __hash__ = object.__hash__


class _Chain(list):
    """The render functions of a block that only a parent template defines: Jinja appends
    them while rendering; the first one is tracked."""

    def __init__(self, name: str, run) -> None:
        super().__init__()
        self.name, self.run = name, run

    def append(self, render) -> None:
        super().append(render if self else _Tracked(self.name, render, self.run))


class _Blocks(dict):
    """A page's blocks with every block's own render function tracked, the parents' too."""

    def __init__(self, blocks: dict, run) -> None:
        super().__init__(
            (name, [_Tracked(name, chain[0], run), *chain[1:]]) for name, chain in blocks.items()
        )
        self.run = run

    def setdefault(self, name, default=None):
        if name not in self:
            self[name] = _Chain(name, self.run)
        return self[name]


def render_fragment(template_name: str, block: str, **context) -> str | None:
    """The block as it appears in the whole page rendered with this context, or None when
    the page does not show it (a block behind an `{% if %}` that is false for this viewer).

    Once a render has shown where the block sits, later ones skip the other top-level blocks
    (title, banners, flashes...): the fragment cannot be inside them and their output would be
    thrown away. A flash message is then left for the next whole page."""
    env = current_app.jinja_env
    template: Template = env.get_template(template_name)
    page = template.new_context(_template_context(context))
    if block not in page.blocks:
        return None
    known = _TOP_BLOCKS.setdefault(template, {})
    top = known.get(block)
    opened: list[str] = []
    shown: list[str] = []

    def run(name: str, render, block_context):
        if not opened and top is not None and name != top:
            return
        opened.append(name)
        try:
            if name != block:
                yield from render(block_context)
                return
            parts = list(render(block_context))
            shown.append(env.concat(parts))  # type: ignore[attr-defined]
            known.setdefault(block, opened[0])
            yield from parts
        finally:
            opened.pop()

    page.blocks = _Blocks(page.blocks, run)
    env.concat(template.root_render_func(page))  # type: ignore[attr-defined]
    return shown[0] if shown else None


def render_page(
    template_name: str,
    *,
    status: int = 200,
    fragments: Iterable[str] = (),
    block: str | None = None,
    **context,
):
    """The whole page, or the one declared fragment an htmx request targets.

    `fragments` are the element ids htmx may fetch alone from this view; `block` makes the
    view answer that block alone whatever the request says (for fragment-only endpoints).
    """
    target = target_id()
    body = None
    if block:
        body = render_block(template_name, block, **context)
    elif target and target in set(fragments):
        body = render_fragment(template_name, block_name(target), **context)
    if body is None:
        body = render_template(template_name, **context)
    response = make_response(body, status)
    response.vary.update(VARY)
    return response


def redirect_to(endpoint: str, **values) -> Response:
    """After an action: HX-Redirect for htmx, a 303 otherwise."""
    location = url_for(endpoint, **values)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)
