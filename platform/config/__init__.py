"""The platform layer: settings, URLconfs, WSGI entry, host routing. Imported as `config`."""
