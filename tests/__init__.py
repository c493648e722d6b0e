"""Test suite and the tooling it shares."""
