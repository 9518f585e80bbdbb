"""Root pytest configuration: loads the teddy-hil plugin (markers, tier skips)."""

pytest_plugins = ["hil.pytest_plugin", "pytester"]
