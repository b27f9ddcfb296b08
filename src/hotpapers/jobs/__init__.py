"""The jobs: the only layer that opens transactions and wires sources, store, rank and
render together; the CLI (and later the web app) call them."""
