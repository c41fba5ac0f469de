"""Feature blocks of the model's ``FeatureUnion``: one module per block."""
