"""The web application: its factory (`factory.create_app`, reached as `wallet.create_app`), its
settings, the Flask extensions, the security headers and the Region's identity. Nothing is
imported here, so that reading the settings or the Region (the offline commands) loads no Flask."""
