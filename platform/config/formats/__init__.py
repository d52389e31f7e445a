"""Date formats of the platform's languages (FORMAT_MODULE_PATH); what is not set here is Django's."""
