"""One module per engine, each building the same topologies around a shared Probe."""
