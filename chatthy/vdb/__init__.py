"""The vector store: chunk → embed → sqlite-vec + FTS5 → hybrid search → RAG.

Daemon side, except ``settings`` (the ``[vdb]`` config section, standard
library only). Importing this package imports nothing else: numpy,
onnxruntime and tokenizers load when the daemon first needs them.

    chunking         Markdown-aware, token-aware chunks with overlap
    local_embedder   int8 all-MiniLM-L6-v2 on onnxruntime (the default, offline)
    remote_embedder  any OpenAI-compatible /v1/embeddings
    vector_index     sqlite-vec KNN (sign bits + exact re-scoring), numpy fallback
    repository       documents, chunks, FTS5, embedding spaces
    search           vector + BM25 fused by reciprocal rank fusion
    ingest           the pipeline: extract, chunk, embed in batches, store
    service          one per daemon: the embedder, the repository, the locks
    rag              `ask --rag`: the retrieved context and its citations
"""
