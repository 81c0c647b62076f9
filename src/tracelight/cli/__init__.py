"""The command-line shell: thin commands over the stage modules and the store."""
