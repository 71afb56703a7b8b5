"""Local container images for the real-node cluster (see image_builder)."""
