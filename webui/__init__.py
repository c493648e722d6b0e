"""The Gradio WebUI: settings that persist, batches started and followed from any browser.

The UI process stays light: it never imports torch or qwen_asr; a detached worker process does the work,
and the UI only reads the job's state and log files.
"""
