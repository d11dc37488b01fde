"""`mallflow` subcommands of the cloud side."""
