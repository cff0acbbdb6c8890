"""The PercHead networks: 2D encoders, the 3D ViT decoder over template patches, the Gaussian head."""
