"""Models: the OpenAI-compatible client and its retry layer, the reply cache and schemas, the embedded llama.cpp server, and the MiniLM embeddings."""
