"""The one signal the record sends: a record was written (created, changed, amended or voided).

It is sent inside the writing transaction. The sync app listens to number the change in its change log
in that same transaction; the record itself knows nothing of sync.
"""

from django.dispatch import Signal

# kwargs: entity (str), record_id (UUID), version (int), voided (bool), changed (dict: the fields a
# change of an existing record gave new values, with those values as a snapshot holds them; empty on
# a create)
record_written = Signal()

# Many new records at once (a device's batch, the record generator): kwargs: records (list of
# (entity, record_id) pairs, in the order they were written), all at version 1 and not voided.
records_created_in_bulk = Signal()
