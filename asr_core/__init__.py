"""The subtitle pipeline as a library: decode, detect speech, recognise, align, build cues, write files.

Nothing here reads environment variables or imports the UI or the worker; settings arrive as
the dataclasses in :mod:`asr_core.options`.
"""
