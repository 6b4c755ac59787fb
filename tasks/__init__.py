"""One module per pipeline stage: a plain function over an artifact store, and its Prefect task."""
