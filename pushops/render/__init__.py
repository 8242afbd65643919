"""Rendering: campaigns -> Deliveries, through the sandboxed Jinja environment.

Public API::

    render_deliveries(campaigns, config, environment, now, report, *, check_keys=True)
        -> Iterator[Delivery]
    Renderer(config, now).render_campaign(campaign, environment, report) -> Iterator[Delivery]

Modules: ``filters`` (the filters), ``sandbox`` (the bounded environment and the partials
loader), ``fanout`` (data files), ``engine`` (contexts, leaves, deliveries).
"""

from pushops.render.engine import (
    RESERVED,
    Renderer,
    RenderError,
    render_deliveries,
)

__all__ = ["RESERVED", "RenderError", "Renderer", "render_deliveries"]
