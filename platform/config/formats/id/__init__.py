"""Indonesian date formats."""
