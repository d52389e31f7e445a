"""The operator console on the apex domain: every clinic, its counts and status; no patient content."""
