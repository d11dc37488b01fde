"""The `mallflow` command: a thin dispatcher over subcommands registered by entry points."""
