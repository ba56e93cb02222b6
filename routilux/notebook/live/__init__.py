"""What the diagram shows of a running or stored job, and the redraw and command plumbing."""
