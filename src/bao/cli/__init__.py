"""The `bao` command line."""
