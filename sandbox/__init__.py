"""A local server that speaks the providers' documented APIs, for demos, tests and integrators."""
