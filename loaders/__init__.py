"""Loaders for public datasets' label systems. Not built yet."""
