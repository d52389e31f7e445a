"""People who sign in: clinic staff with their roles (per clinic schema) and platform operators (public)."""
