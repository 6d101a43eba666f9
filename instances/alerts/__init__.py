"""Alerts: rules per team, evaluated from the status transitions sync writes (failed) and by a
periodic check (stuck, missing, stale); one alert per (rule, definition, signature) while it
fires; messages delivered through channels with retries, rate limits and no loss."""
