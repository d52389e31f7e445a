"""English date formats, as read in Indonesia."""
