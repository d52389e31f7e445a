"""What sync tells the rest of the platform: a device came back (its `last_seen` moved on, at most once
per `services.SEEN_EVERY`), so a clinic that only downloads is still seen as active."""

from django.dispatch import Signal

# kwargs: device_id (str)
device_seen = Signal()
