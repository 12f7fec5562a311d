"""Real network I/O: the lab's HTTP server (uvicorn, in its own process), the verified clients
every model uses (its ceiling, a study, is `lab.studies.ceiling`)."""
