"""Runboard's dates and times in each language (settings.FORMAT_MODULE_PATH): one format a
page, seconds shown (runs are told apart by them), weeks starting on Monday."""
