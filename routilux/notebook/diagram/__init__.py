"""Diagrams: a flow as Graphviz DOT (labels, live-state overlay) and the engines that lay it out."""
