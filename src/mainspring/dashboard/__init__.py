"""The dashboard: server-rendered pages (Jinja2 + vendored htmx), live through polled fragments."""
