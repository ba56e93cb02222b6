"""Older import paths of the seed API (``routilux.monitoring.flow_registry``)."""
