"""Pure layout builders: DataFrames and plain values in, Dash components / figures out."""
