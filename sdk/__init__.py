"""What training jobs use. Today: the offline taxonomy (``bamboo.graph.Taxonomy``); more to come."""
