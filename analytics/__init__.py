"""Pure analytics on pandas/numpy: no HTTP, no SQL, no Dash."""
