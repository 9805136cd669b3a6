"""Pure functions and models: data in, data out, no I/O."""
