"""Real network I/O: the lab's HTTP server (uvicorn, in its own process), the verified clients
every model uses, and the server's ceiling measured apart."""
