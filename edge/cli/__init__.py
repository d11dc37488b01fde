"""`mallflow` subcommands of the edge: `edge run`, `track`, `analyze`."""
