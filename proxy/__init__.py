"""dni-edge: the I/O shell (aiohttp server and clients, CLI) around the pure `rules` core."""
