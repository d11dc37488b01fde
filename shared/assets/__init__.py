"""Catalogues of the model files and sample data Mallflow needs, with checksums and fetchers."""
