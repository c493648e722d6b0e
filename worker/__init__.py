"""Batch execution: the headless CLI, the detached job process and the files it shares with the UI."""
