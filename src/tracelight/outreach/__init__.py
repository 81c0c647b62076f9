"""Outreach to possible victims and buyer deterrence: templates, service directories, message
rendering and opt-out words (pure: no store, no network). See docs/outreach.md."""
