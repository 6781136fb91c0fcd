"""Suite files: the typed model and the loader."""
