"""The read side shared by pages/ and webapi/: store reads + pure analytics, no Dash or Flask."""
