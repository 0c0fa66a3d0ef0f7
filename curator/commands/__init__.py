"""One module per `curate` command; each defines ``register(app)``. See `curator.cli`."""
