"""Routes, one module per page area; each exposes `router`."""
