"""Model backends, one module per model family, behind the role protocols in models.base."""
