"""Retrieval for RAG systems: corpus -> chunks -> BM25 / dense / hybrid search, cached on disk.

Submodules import numpy and bm25s; import them where needed, not from harness core. Only
`config` is light (the suite model uses it).
"""
