"""Running scenarios: server set-up, step handlers, the per-scenario runner."""
