"""Test support code, imported by tests (never a test itself): the sample store's paths and
clock, recorded provider payloads, local provider stand-ins, store backends, subprocesses,
Dash callback posting and browser helpers. Tests import from here, never from conftest or
from another test module."""
