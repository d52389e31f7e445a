"""`manage.py makemessages` that also finds the messages kept for later reading.

`satusehat.reasons.deferred("...", **values)` is translated when it is read, not where it is written;
xgettext is told that its first argument is a message id, so `make messages` keeps those entries.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=deferred"]
