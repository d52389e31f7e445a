"""The sync protocol between the offline app and a clinic's schema: change log, push, pull, conflicts."""
